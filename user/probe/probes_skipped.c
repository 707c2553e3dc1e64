// SPDX-License-Identifier: GPL-2.0
/*
 * Probe runs the kernel skipped. Its recursion guard skips a program that
 * would run on a CPU where it is already running (a probed call inside an
 * interrupt that came during the program, or, on a preemptible kernel, a
 * task preempted in it: docs/kernel-facts.md), and counts each skip in the
 * program's recursion_misses. A skipped entry is a call all the same, so
 * probe_set__read adds them to the calls; a skipped run's latency is lost.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fsession.skel.h"
#include "hist.h"
#include "probes_int.h"
#include "session.skel.h"
#include "trace.skel.h"

/* Runs of prog the kernel skipped (recursion_misses); 0 where it cannot say. */
static __u64 prog_skipped(const struct bpf_program *prog)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = prog ? bpf_program__fd(prog) : -1;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

void probes__read_skipped(struct probe *p, const struct lps_hist *h)
{
	struct trace_bpf *skel = p->skel;
	bool fentry = p->info.mode == ATTACH_FENTRY;
	__u64 misses;

	p->info.skipped_entries = p->skipped_entries_before;
	p->info.skipped_returns = p->skipped_returns_before;
	if (p->sess || p->fsess) {
		/* One program for both ends: the kernel counts them together. */
		misses = prog_skipped(p->fsess ? p->fsess->progs.lps_fsession :
				      p->sess->progs.lps_ksession);
		if (h)
			probes__session_split(p->info.mode, h, misses, &p->info.skipped_entries,
					      &p->info.skipped_returns);
		else
			p->info.skipped_returns += misses;
		return;
	}
	if (!skel)
		return;
	p->info.skipped_entries += prog_skipped(fentry ? skel->progs.lps_fentry : skel->progs.lps_kprobe);
	p->info.skipped_returns += prog_skipped(fentry ? skel->progs.lps_fexit :
						skel->progs.lps_kretprobe);
}

void probes__session_split(enum attach_mode mode, const struct lps_hist *h, __u64 misses,
			   __u64 *skipped_entries, __u64 *skipped_returns)
{
	__u64 calls = h->calls, returns = hist_recorded(h) + h->unmatched, se;

	if (mode == ATTACH_FSESSION) {
		/*
		 * The trampoline runs the return whether or not the entry ran:
		 * each call is one entry and one return, run or skipped, so
		 * calls + returns + misses is twice the calls made. Rounded up:
		 * a call in flight counts, as its entry would in fentry's count.
		 * With calls in flight that reads low, and the trampoline's
		 * cookie, zeroed per call, bounds it: each unmatched return is
		 * exactly one entry skipped.
		 */
		__u64 made = (calls + returns + misses + 1) / 2;

		se = made > calls ? made - calls : 0;
		if (se < h->unmatched)
			se = h->unmatched;
	} else {
		/*
		 * kprobe_multi does not run the return of a call whose entry it
		 * skipped (kernel/trace/bpf_trace.c): the skipped returns are the
		 * entries that ran less the returns that ran.
		 */
		__u64 lost_returns = calls > returns ? calls - returns : 0;

		se = misses > lost_returns ? misses - lost_returns : 0;
	}
	if (se > misses)	/* only with calls in flight: never more than were skipped */
		se = misses;
	*skipped_entries = se;
	*skipped_returns = misses - se;
}
