/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health signals beyond latency (bpf/signals.bpf.c): lock contention inside
 * each traced function and system-wide with its callers, kernel page faults
 * inside each traced function, and the system's run-queue latency.
 */
#ifndef LPS_SIGNALS_H
#define LPS_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lpsentinel.h"

struct signals;

/* A lock's caller: the first function on the contending stack outside the lock code. */
struct lock_caller_entry {
	__u32 stack_id;
	__u32 func;		/* traced function the task was in, or LPS_NO_FUNC */
	struct lps_lock_caller v;
};

struct signals_snapshot {
	size_t nfuncs;
	struct lps_func_signals *funcs;	/* nfuncs of them */
	struct lps_func_signals sys;	/* system-wide contention */
	struct lps_hist runq;		/* run-queue latency, system-wide */
	__u64 drops[LPS_SDROP_NR];
	struct lock_caller_entry *callers;
	size_t ncallers;
};

/*
 * Loads and attaches the signal probes for nfuncs traced functions sharing the
 * latency probes' task-stack map (probe_set__task_stacks_fd). why gets a
 * sentence on failure.
 */
int signals__open(struct signals **out, size_t nfuncs, int task_stacks_fd, char *why,
		  size_t why_len);
/* Which lock-contention tracepoint flavour is attached: "tp_btf" or "raw_tp". */
const char *signals__lock_mode(const struct signals *s);
/*
 * NULL when the contention tracepoints see every queued spinlock and sleeping
 * lock here; else what they cover, for the judge (lock_coverage.h).
 */
const char *signals__lock_coverage(const struct signals *s);
int signals__read(struct signals *s, struct signals_snapshot *out);
/*
 * A CPU budget's windows (budget_set.c): function func's probes were attached
 * again at since_ns (CLOCK_MONOTONIC), or are detached (~0ULL). Frames pushed
 * before are stale: the signals do not count the task as inside func.
 */
int signals__window(struct signals *s, size_t func, __u64 since_ns);
/*
 * The syscall-entry probe that clears stale frames (sys_enter) runs on every
 * system call of every task: with every function's probes detached nothing
 * pushes a frame, so a budget turns it off for its gaps (on: false) and on
 * again with the first window (on: true; -errno if the kernel refuses).
 */
int signals__syscalls(struct signals *s, bool on);
/*
 * BPF run time of that syscall-entry probe so far (run-time statistics on):
 * a budget charges what it ran in a function's window to the function,
 * since it runs only while some window is open.
 */
int signals__syscall_run_ns(const struct signals *s, __u64 *run_ns);
void signals__destroy(struct signals *s);

/* out = a - b (b taken earlier), callers matched by key; out must be empty. */
int signals_snapshot__delta(struct signals_snapshot *out, const struct signals_snapshot *a,
			    const struct signals_snapshot *b);
void signals_snapshot__free(struct signals_snapshot *s);
/* dst += src; o = a - b. */
void signals__add(struct lps_func_signals *dst, const struct lps_func_signals *src);
void signals__sub(struct lps_func_signals *o, const struct lps_func_signals *a,
		  const struct lps_func_signals *b);
/* BPF run time and runs of the signal programs, summed (see probe_set__run_stats). */
int signals__run_stats(const struct signals *s, __u64 *run_ns, __u64 *runs);

/*
 * Reads the kernel's symbols now, for caller names: call it while the patch
 * module is still loaded, or its functions cannot be named after an unload.
 */
int signals__load_symbols(struct signals *s);

/*
 * The name of caller c's first frame outside lock, tracing and BPF code
 * ("?" when the stack was not recorded); stack_has gets whether any frame is
 * one of the names in match (NULL-terminated, may be NULL).
 */
const char *signals__caller_name(struct signals *s, const struct lock_caller_entry *c,
				 const char *const *match, bool *stack_has);

#endif
