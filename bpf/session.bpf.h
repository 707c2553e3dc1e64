/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Both ends of a call in one program, paired by the call's own cookie: shared
 * by the kprobe session (session.bpf.c) and the tracing session
 * (fsession.bpf.c) objects, which differ only in how they ask the kernel
 * which end this is and where the cookie is.
 */
#ifndef LPS_SESSION_BPF_H
#define LPS_SESSION_BPF_H

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

#endif
