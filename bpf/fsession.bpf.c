// SPDX-License-Identifier: GPL-2.0
/*
 * Tracing session probes: one program on the function's BPF trampoline for
 * both ends of a call (attach type BPF_TRACE_FSESSION, Linux 7.0+).
 *
 * The trampoline runs the program before the function and again after it,
 * with the return value in place, and gives each call 8 bytes of its own
 * stack (bpf_session_cookie) that it zeroes before the entry runs. The entry
 * time goes there: nesting and recursion pair by construction, with no
 * per-task storage to look up, which is what fentry+fexit pay for on every
 * call (trace.bpf.c). The verifier inlines both kfuncs for this attach type
 * (three and six instructions: kernel/bpf/verifier.c, 7.2).
 *
 * A run the kernel skips (its recursion guard, kernel-facts.md) is counted in
 * this one program's misses, entries and returns alike; userspace splits them
 * (probes__fsession_split): every return that runs is recorded or unmatched.
 *
 * libbpf 1.1 has no section for it: SEC("fentry") gives the program type and
 * the BTF target, and userspace sets the attach type the kernel's BTF names.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lpsentinel.h"
#include "hists.bpf.h"
#include "session.bpf.h"

/* The kernel's since 7.0, taking the context (kernel/trace/bpf_trace.c). */
extern bool bpf_session_is_return(void *ctx) __ksym;
extern __u64 *bpf_session_cookie(void *ctx) __ksym;

SEC("fentry")
int lps_fsession(__u64 *ctx)
{
	bool is_return = bpf_session_is_return(ctx);
	__u64 ret = 0;

	/* bpf_get_func_ret finds the return slot whatever the argument count. */
	if (is_return)
		bpf_get_func_ret(ctx, &ret);
	return session_run(is_return, bpf_session_cookie(ctx), ret);
}

char LICENSE[] SEC("license") = "GPL";
