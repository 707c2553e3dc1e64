// SPDX-License-Identifier: GPL-2.0
/*
 * Health signals beyond latency: lock contention (contention_begin/end),
 * kernel page faults (exceptions:page_fault_kernel) and run-queue latency
 * (sched_wakeup/sched_switch). One instance for all traced functions: it
 * shares the latency probes' task_stacks map (bpf_map__reuse_fd), so "inside
 * a traced function" is the innermost open frame of the current task.
 *
 * Maps are bounded; what does not fit is counted in sdrops, never lost
 * silently. Lock contention has tp_btf and raw_tp variants: userspace loads
 * the one the kernel supports.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lpsentinel.h"

/* Frames kept per contention stack: enough to get past the lock internals. */
#define LPS_LOCK_STACK_DEPTH 12

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lps_task_stack);
} task_stacks SEC(".maps");		/* the latency probes' map, reused */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* resized to functions + 1 (system) by userspace */
	__type(key, __u32);
	__type(value, struct lps_func_signals);
} fsignals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lps_hist);
} runq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, LPS_LOCK_STACK_DEPTH * sizeof(__u64));
} lock_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lps_lock_caller_key);
	__type(value, struct lps_lock_caller);
} lock_callers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LPS_SDROP_NR);
	__type(key, __u32);
	__type(value, __u64);
} sdrops SEC(".maps");

/*
 * Per traced function, when its probes were last attached (CLOCK_MONOTONIC
 * ns; 0: attached throughout, ~0: detached now), written by a CPU budget as
 * it detaches and attaches them (budget_set.c). A frame older than that was
 * pushed in an earlier window, and its return may never be seen: the task is
 * not in the function for the signals, as trace.bpf.c's return path does not
 * pair it either.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* resized to the function count by userspace */
	__type(key, __u32);
	__type(value, __u64);
} fwindow SEC(".maps");

/*
 * A contention in progress, one per task. The first begin counts: a mutex
 * reports begin again after every wakeup, and its slow path contends on the
 * lock's own wait_lock inside the outer wait; those must neither restart nor
 * end the outer wait, so only the end for the same lock closes it.
 */
struct lock_wait {
	__u64 ts;
	__u64 lock;
	__u32 stack_id;
	__u32 func;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lock_wait);
} lock_waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} wake_ts SEC(".maps");

const volatile __u32 lps_nfuncs = 0;

static __always_inline void count_sdrop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&sdrops, &why);

	if (n)
		*n += 1;
}

/* The traced function the current task is innermost in, or LPS_NO_FUNC. */
static __always_inline __u32 current_func(struct task_struct *task)
{
	struct lps_task_stack *st = bpf_task_storage_get(&task_stacks, task, 0, 0);
	struct lps_frame *fr;
	__u64 *since;
	__u32 d, f;

	if (!st)
		return LPS_NO_FUNC;
	d = st->depth;
	if (d == 0 || d > LPS_MAX_DEPTH)
		return LPS_NO_FUNC;
	fr = &st->frames[(d - 1) & (LPS_MAX_DEPTH - 1)];
	f = fr->func;
	/* Pushed before the function's current window (a budget's): stale. */
	since = bpf_map_lookup_elem(&fwindow, &f);
	if (since && fr->ts < *since)
		return LPS_NO_FUNC;
	return f;
}

static __always_inline int on_contention_begin(void *ctx, __u64 lock)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lock_wait *w;
	long id;

	w = bpf_task_storage_get(&lock_waits, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w) {
		count_sdrop(LPS_SDROP_NO_STORAGE);
		return 0;
	}
	if (w->ts)
		return 0;	/* repeated or nested begin: the outer wait goes on */
	id = bpf_get_stackid(ctx, &lock_stacks, 0);
	if (id < 0)
		count_sdrop(LPS_SDROP_NO_STACK);
	w->stack_id = id < 0 ? LPS_NO_STACK : (__u32)id;
	w->func = current_func(task);
	w->lock = lock;
	w->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void add_contention(__u32 slot, __u64 wait)
{
	struct lps_func_signals *s = bpf_map_lookup_elem(&fsignals, &slot);

	if (s) {
		s->contended++;
		s->contention_ns += wait;
	}
}

static __always_inline int on_contention_end(__u64 lock)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lps_lock_caller_key key = {};
	struct lps_lock_caller *c, init = {};
	struct lock_wait *w;
	__u64 wait;

	w = bpf_task_storage_get(&lock_waits, task, 0, 0);
	if (!w || !w->ts || w->lock != lock)
		return 0;	/* began before we attached, dropped, or a nested lock's end */
	wait = bpf_ktime_get_ns() - w->ts;
	w->ts = 0;
	add_contention(LPS_SYS_SLOT(lps_nfuncs), wait);
	if (w->func < lps_nfuncs)
		add_contention(w->func, wait);

	key.stack_id = w->stack_id;
	key.func = w->func < lps_nfuncs ? w->func : LPS_NO_FUNC;
	c = bpf_map_lookup_elem(&lock_callers, &key);
	if (!c) {
		if (bpf_map_update_elem(&lock_callers, &key, &init, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&lock_callers, &key)) {
			count_sdrop(LPS_SDROP_CALLERS_FULL);
			return 0;
		}
		c = bpf_map_lookup_elem(&lock_callers, &key);
		if (!c)
			return 0;
	}
	__sync_fetch_and_add(&c->count, 1);
	__sync_fetch_and_add(&c->wait_ns, wait);
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(lps_contention_begin_btf, void *lock, unsigned int flags)
{
	return on_contention_begin(ctx, (__u64)lock);
}

SEC("tp_btf/contention_end")
int BPF_PROG(lps_contention_end_btf, void *lock, int ret)
{
	return on_contention_end((__u64)lock);
}

SEC("raw_tp/contention_begin")
int lps_contention_begin_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return on_contention_begin(ctx, ctx->args[0]);
}

SEC("raw_tp/contention_end")
int lps_contention_end_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return on_contention_end(ctx->args[0]);
}

SEC("tp_btf/page_fault_kernel")
int BPF_PROG(lps_page_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	__u32 f = current_func(bpf_get_current_task_btf());
	struct lps_func_signals *s;

	if (f >= lps_nfuncs)
		return 0;
	s = bpf_map_lookup_elem(&fsignals, &f);
	if (s)
		s->page_faults++;
	return 0;
}

/*
 * A task entering a syscall from user space is inside no kernel function, so
 * any open frame left on its stack is a return the latency probes never saw
 * (the kernel skips a BPF program that would recurse, and a trampoline being
 * rebuilt as a livepatch arrives can miss one). Without this, one missed
 * return would pin all the task's later contention on that function.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(lps_sys_enter, struct pt_regs *regs, long id)
{
	struct lps_task_stack *st = bpf_task_storage_get(&task_stacks, bpf_get_current_task_btf(), 0, 0);

	if (st && st->depth) {
		count_sdrop(LPS_SDROP_STALE_FRAMES);
		st->depth = 0;
	}
	return 0;
}

/* Run-queue latency: from wakeup (or preemption) to running again, as runqlat. */
static __always_inline void mark_runnable(struct task_struct *p)
{
	__u64 *ts = bpf_task_storage_get(&wake_ts, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = bpf_ktime_get_ns();
	else
		count_sdrop(LPS_SDROP_NO_STORAGE);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(lps_sched_wakeup, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(lps_sched_wakeup_new, struct task_struct *p)
{
	mark_runnable(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(lps_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 zero = 0;
	struct lps_hist *h;
	__u64 *ts;

	/* Preempted while runnable: it waits in the run queue from now. */
	if (BPF_CORE_READ(prev, __state) == 0 /* TASK_RUNNING */)
		mark_runnable(prev);
	if (!next->pid)
		return 0;	/* the idle task does not queue */
	ts = bpf_task_storage_get(&wake_ts, next, 0, 0);
	if (!ts || !*ts)
		return 0;
	h = bpf_map_lookup_elem(&runq, &zero);
	if (h) {
		h->calls++;
		lps_hist_record(h, bpf_ktime_get_ns() - *ts);
	}
	*ts = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
