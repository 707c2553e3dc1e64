/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the BPF programs and userspace share: plain __u32/__u64 structs and the
 * histogram bucket math. Included by the BPF programs (after vmlinux.h) and by user/
 * (after <linux/types.h>), so it uses nothing but the __uN types.
 */
#ifndef LPSENTINEL_H
#define LPSENTINEL_H

/*
 * Log-linear latency histogram. Values below 2^HIST_SUB_BITS ns get one bucket
 * each; every power of two above that is split into 2^HIST_SUB_BITS linear
 * sub-buckets, so a bucket is at most 1/16 (6.25 %) of its value wide and a
 * percentile read from it is within about 3 % of the truth. log2 buckets alone
 * could not show a 20 % shift.
 */
#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Largest exponent with its own buckets: 2^37 ns is about 137 s; longer is clamped. */
#define HIST_MAX_EXP 36
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB)

/* How a traced function's return value says "error" (from its BTF type). */
enum lps_ret_kind {
	LPS_RET_VOID = 0,	/* no return value: never an error */
	LPS_RET_INT32 = 1,	/* int-sized integer: low 32 bits in [-4095, -1] */
	LPS_RET_INT64 = 2,	/* long-sized integer: value in [-4095, -1] */
	LPS_RET_PTR = 3,	/* pointer: IS_ERR(), the top 4095 addresses */
	LPS_RET_UNKNOWN = 4,	/* no BTF: either of the two integer readings */
	LPS_RET_NEVER = 5,	/* unsigned, bool, struct: no errno convention */
};

#define LPS_MAX_ERRNO 4095

/* Per function and per CPU; userspace sums the CPUs. */
struct lps_hist {
	__u64 calls;		/* entries seen: every call counted once */
	__u64 errors;		/* returns that were errors (see lps_ret_kind) */
	__u64 sum_ns;		/* sum of the recorded latencies */
	__u64 max_ns;
	__u64 unmatched;	/* returns without a recorded entry (latency lost) */
	__u64 buckets[HIST_BUCKETS];
};

/* Per task: stack of open calls, so recursion and nesting pair up correctly. */
#define LPS_MAX_DEPTH 16
struct lps_frame {
	__u64 ts;
	__u32 func;
	__u32 pad;
};

struct lps_task_stack {
	__u32 depth;
	__u32 pad;
	struct lps_frame frames[LPS_MAX_DEPTH];
};

/*
 * Health signals beyond latency (bpf/signals.bpf.c), per CPU; userspace sums.
 * Per traced function: what happened while a task was inside it.
 */
struct lps_func_signals {
	__u64 contended;	/* lock contentions begun inside the function */
	__u64 contention_ns;	/* time spent waiting in them */
	__u64 page_faults;	/* kernel-mode page faults taken inside it */
};

/* System-wide, the last slot of the same array. */
#define LPS_SYS_SLOT(nfuncs) (nfuncs)

/* Who contended on a lock: stack id (LPS_NO_STACK when unrecorded) and function. */
#define LPS_NO_STACK 0xffffffffu
#define LPS_NO_FUNC 0xffffffffu
struct lps_lock_caller_key {
	__u32 stack_id;
	__u32 func;		/* the traced function the task was in, or LPS_NO_FUNC */
};

struct lps_lock_caller {
	__u64 count;
	__u64 wait_ns;
};

/* What the signal probes could not record, one slot each, per CPU. */
enum lps_signal_drop {
	LPS_SDROP_NO_STORAGE = 0,	/* task storage unavailable (allocation, recursion) */
	LPS_SDROP_CALLERS_FULL = 1,	/* caller table full: counted in totals only */
	LPS_SDROP_NO_STACK = 2,		/* stack not recorded (stack map full or busy) */
	LPS_SDROP_STALE_FRAMES = 3,	/* open calls found at syscall entry: returns missed */
	LPS_SDROP_NR = 4,
};

/* Counters of what the probes could not record, one slot each, per CPU. */
enum lps_drop {
	LPS_DROP_NO_STORAGE = 0,	/* task storage unavailable (allocation, recursion) */
	LPS_DROP_TOO_DEEP = 1,		/* nesting deeper than LPS_MAX_DEPTH */
	LPS_DROP_NR = 2,
};

/*
 * The bucket of a latency. Runs on every traced return, so it is written for
 * the BPF instruction count: a binary search for the exponent of ns >> 4 (six
 * shift-and-test steps, no loop: the verifier and the unit tests both like
 * that), the clamp tested once up front. Same buckets as the textbook form:
 * exp = fls64(ns) - 1, sub = (ns >> (exp - 4)) & 15,
 * idx = HIST_SUB + (exp - 4) * HIST_SUB + sub.
 */
static inline __u32 lps_hist_bucket(__u64 ns)
{
	__u64 v = ns >> HIST_SUB_BITS;
	__u32 e = 0;	/* exp - HIST_SUB_BITS: v is in [2^e, 2^(e+1)) */

	if (ns < HIST_SUB)
		return (__u32)ns;
	if (v >> (HIST_MAX_EXP - HIST_SUB_BITS + 1))
		return HIST_BUCKETS - 1;
	if (v >> 32) { v >>= 32; e += 32; }
	if (v >> 16) { v >>= 16; e += 16; }
	if (v >> 8) { v >>= 8; e += 8; }
	if (v >> 4) { v >>= 4; e += 4; }
	if (v >> 2) { v >>= 2; e += 2; }
	if (v >> 1) e += 1;
	return ((e + 1) << HIST_SUB_BITS) | ((__u32)(ns >> e) & (HIST_SUB - 1));
}

/* Is a raw 64-bit return register an error for a function of this kind? */
static inline int lps_is_error(__u64 ret, __u32 kind)
{
	__s64 v64 = (__s64)ret;
	__s32 v32 = (__s32)(__u32)ret;

	switch (kind) {
	case LPS_RET_INT32:
		return v32 < 0 && v32 >= -LPS_MAX_ERRNO;
	case LPS_RET_INT64:
	case LPS_RET_PTR:
		return v64 < 0 && v64 >= -LPS_MAX_ERRNO;
	case LPS_RET_UNKNOWN:
		return (v64 < 0 && v64 >= -LPS_MAX_ERRNO) ||
		       (ret >> 32 == 0 && v32 < 0 && v32 >= -LPS_MAX_ERRNO);
	default:
		return 0;
	}
}

#ifdef __bpf__
/* Records one latency (sum, max, bucket); the caller counts the call. BPF only. */
static __always_inline void lps_hist_record(struct lps_hist *h, __u64 delta)
{
	__u64 b = lps_hist_bucket(delta);

	h->sum_ns += delta;
	if (delta > h->max_ns)
		h->max_ns = delta;
	/*
	 * Cannot exceed the array, but the verifier must see the clamp on the very
	 * register used as index; written in C, clang checks a copy instead.
	 */
	asm volatile("if %[b] < %[n] goto +1; %[b] = %[last]"
		     : [b] "+r"(b) : [n] "i"(HIST_BUCKETS), [last] "i"(HIST_BUCKETS - 1));
	h->buckets[b]++;
}
#endif

#endif /* LPSENTINEL_H */
