// SPDX-License-Identifier: GPL-2.0
/*
 * Per-function latency, call and error probes.
 *
 * One instance of this object is loaded per traced function; the function's
 * index and return kind are baked into .rodata, so the hot path needs no lookup
 * to know who it is. The maps (histograms, task stacks, drop counters) are
 * created by the first instance and shared by all others (bpf_map__reuse_fd).
 *
 * Latency is keyed by task, not by CPU: a call that is preempted or migrates
 * still pairs its own entry and return. Each task keeps a small stack of open
 * calls so that recursion and nesting of traced functions pair correctly.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lpsentinel.h"
#include "hists.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lps_task_stack);
} task_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LPS_DROP_NR);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/*
 * Witness: a plain kprobe counter attached beside a fentry probe until both have
 * seen calls. A kernel can accept a fentry attachment and then never run it (see
 * docs/kernel-facts.md); a witness that counts calls the probe missed unmasks that.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* resized to the function count by userspace */
	__type(key, __u32);
	__type(value, __u64);
} witness SEC(".maps");

/*
 * When this function's probes were last attached (CLOCK_MONOTONIC ns, written
 * by userspace before a CPU budget attaches them again; 0 otherwise). A frame
 * older than that was pushed in an earlier window and its return was never
 * seen: paired with a return now it would read as a call as long as the gap.
 */
volatile __u64 lps_window_start_ns = 0;

/*
 * 1 while a CPU budget detaches or attaches this function's kprobes (written
 * by userspace, probes.c): the entry probe then neither counts nor pushes, so
 * the two probes can come and go in the order that keeps the return probe's
 * time alone short, and the window's counts start when both are in.
 */
volatile __u32 lps_closed = 0;

static __always_inline void count_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &why);

	if (n)
		*n += 1;
}

/* windowed: only the kprobe path, the one CPU budgets detach and attach again. */
static __always_inline void on_entry(bool windowed)
{
	__u32 idx = lps_func_idx;
	struct lps_task_stack *st;
	struct lps_hist *h;
	__u32 d;

	if (windowed && lps_closed)
		return;

	/* Count first: the call count stays exact even when latency is lost. */
	h = bpf_map_lookup_elem(&hists, &idx);
	if (h)
		h->calls++;

	st = bpf_task_storage_get(&task_stacks, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		count_drop(LPS_DROP_NO_STORAGE);
		return;
	}
	d = st->depth;
	/*
	 * A budget detaches the return probe first (probe_set__pause): a call
	 * in flight then leaves its frame behind. On this function's next entry
	 * its own frames from an earlier window, on top, go (their returns would
	 * be unmatched anyway), so they cannot pile up to LPS_MAX_DEPTH.
	 */
	for (int k = 0; windowed && k < LPS_MAX_DEPTH; k++) {
		if (d - 1 >= LPS_MAX_DEPTH || st->frames[(d - 1) & (LPS_MAX_DEPTH - 1)].func != idx ||
		    st->frames[(d - 1) & (LPS_MAX_DEPTH - 1)].ts >= lps_window_start_ns)
			break;
		d--;
	}
	if (d >= LPS_MAX_DEPTH) {
		count_drop(LPS_DROP_TOO_DEEP);
		return;
	}
	st->frames[d].func = idx;
	st->frames[d].ts = bpf_ktime_get_ns();
	st->depth = d + 1;
}

/*
 * Our frame, popped: normally the top one. If an entry was missed further up
 * (the kernel skips a probe that would recurse), look down the stack for our
 * own frame and drop the orphans above it. Returns its entry time, 0 if none.
 */
static __always_inline __u64 pop_frame(struct lps_task_stack *st, __u32 idx)
{
	__u32 d = st->depth, i;

	/* The common case first: one test, no loop (d - 1 wraps when d is 0). */
	if (d - 1 < LPS_MAX_DEPTH && st->frames[(d - 1) & (LPS_MAX_DEPTH - 1)].func == idx) {
		st->depth = d - 1;
		return st->frames[(d - 1) & (LPS_MAX_DEPTH - 1)].ts;
	}
	for (i = 0; i < LPS_MAX_DEPTH; i++) {
		if (d == 0 || d > LPS_MAX_DEPTH)
			break;
		d--;
		if (st->frames[d & (LPS_MAX_DEPTH - 1)].func == idx) {
			st->depth = d;
			return st->frames[d & (LPS_MAX_DEPTH - 1)].ts;
		}
	}
	return 0;
}

/* windowed: only the kprobe path, the one CPU budgets detach and attach again. */
static __always_inline void on_return(__u64 ret, bool windowed)
{
	/* First: the latency excludes what the probe itself does after it. */
	__u64 now = bpf_ktime_get_ns();
	__u32 idx = lps_func_idx;
	struct lps_task_stack *st;
	struct lps_hist *h;
	__u64 ts;

	h = bpf_map_lookup_elem(&hists, &idx);
	if (!h)
		return;
	st = bpf_task_storage_get(&task_stacks, bpf_get_current_task_btf(), 0, 0);
	ts = st ? pop_frame(st, idx) : 0;
	if (!ts || (windowed && ts < lps_window_start_ns)) {
		h->unmatched++;
		return;
	}
	/* Counted with its entry only: errors stay a subset of calls. */
	if (lps_is_error(ret, lps_ret_kind))
		h->errors++;
	lps_hist_record(h, now - ts);
}

SEC("fentry")
int BPF_PROG(lps_fentry)
{
	on_entry(false);
	return 0;
}

SEC("fexit")
int lps_fexit(__u64 *ctx)
{
	__u64 ret = 0;

	/* bpf_get_func_ret finds the return slot whatever the argument count. */
	bpf_get_func_ret(ctx, &ret);
	on_return(ret, false);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(lps_kprobe)
{
	on_entry(true);
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(lps_kretprobe)
{
	on_return(PT_REGS_RC(ctx), true);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(lps_witness)
{
	__u32 idx = lps_func_idx;
	__u64 *n = bpf_map_lookup_elem(&witness, &idx);

	if (n)
		*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
