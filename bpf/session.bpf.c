// SPDX-License-Identifier: GPL-2.0
/*
 * Session probes: one program for both ends of a call.
 *
 * A kprobe session program (kprobe_multi link, attach type
 * BPF_TRACE_KPROBE_SESSION, Linux 6.10+) runs at a function's entry and again
 * at its return; bpf_session_is_return() says which, and bpf_session_cookie()
 * points at 8 bytes that belong to this one call, the same at entry and at
 * return. The entry time goes there, so no per-task stack pairs the two ends:
 * nesting and recursion pair by construction, at any depth.
 *
 * Kept apart from trace.bpf.c: the session kfuncs exist only on kernels that
 * have session programs, and an object that names them does not load
 * elsewhere. The histograms map is trace.bpf.c's (hists.bpf.h, shared by fd).
 *
 * Linux 7.0 gave both kfuncs the program's context as an argument, for
 * tracing session programs (fsession.bpf.c): this object loads on 6.10 to 6.19.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lpsentinel.h"
#include "hists.bpf.h"
#include "session.bpf.h"

/* The kernel's (kernel/trace/bpf_trace.c); resolved against its BTF at load. */
extern bool bpf_session_is_return(void) __ksym;
extern __u64 *bpf_session_cookie(void) __ksym;

SEC("kprobe")
int BPF_KPROBE(lps_ksession)
{
	return session_run(bpf_session_is_return(), bpf_session_cookie(), PT_REGS_RC(ctx));
}

char LICENSE[] SEC("license") = "GPL";
