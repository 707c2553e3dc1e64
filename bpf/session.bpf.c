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
 * A tracing session program (fsession, on the fentry trampoline, Linux 7.0+)
 * would be one more SEC here calling session_run() with its own cookie and
 * return value; nothing else changes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lpsentinel.h"
#include "hists.bpf.h"

/* The kernel's (kernel/trace/bpf_trace.c); resolved against its BTF at load. */
extern bool bpf_session_is_return(void) __ksym;
extern __u64 *bpf_session_cookie(void) __ksym;

/*
 * One end of a call. cookie: this call's slot. The kernel does not clear the
 * slot between calls (kprobe_multi keeps it in a recycled rethook node), so
 * the return clears it: an entry the kernel skipped (another BPF program
 * running on this CPU) then leaves 0 behind, read as unmatched rather than as
 * a stale time from some earlier call.
 */
static __always_inline int session_run(bool is_return, __u64 *cookie, __u64 ret)
{
	__u32 idx = lps_func_idx;
	struct lps_hist *h = bpf_map_lookup_elem(&hists, &idx);
	__u64 ts, delta;

	if (!h)
		return 0;
	if (!is_return) {
		/* Count first: the call count stays exact even when latency is lost. */
		h->calls++;
		*cookie = bpf_ktime_get_ns();
		return 0;	/* non-zero would skip this call's return */
	}
	delta = bpf_ktime_get_ns();
	ts = *cookie;
	*cookie = 0;
	if (!ts) {
		h->unmatched++;
		return 0;
	}
	/* Counted with its entry only: errors stay a subset of calls. */
	if (lps_is_error(ret, lps_ret_kind))
		h->errors++;
	lps_hist_record(h, delta - ts);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(lps_ksession)
{
	return session_run(bpf_session_is_return(), bpf_session_cookie(), PT_REGS_RC(ctx));
}

char LICENSE[] SEC("license") = "GPL";
