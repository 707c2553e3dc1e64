/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of a verdict document only people read, for the HTML report:
 * every check with its p-value, alpha and thresholds, the kernel faults, a
 * stalled transition's blockers, and the timeline (timeline.h). Read by
 * verdict_read__*_detail with the same hostile-input rules as the rest; each
 * part is optional (older verdicts and the daemon's lack some), but a part
 * that is there must have the right shape.
 */
#ifndef LPS_VERDICT_DETAIL_H
#define LPS_VERDICT_DETAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <linux/types.h>

#define VD_MAX_CHECKS	8	/* per function or system: judge's 6, and the transition */
#define VD_MAX_FAULTS	16	/* kernel log lines shown; more are counted */
#define VD_MAX_BLOCKERS	64
#define VD_MAX_LOOKS	4096
#define VD_MAX_SECONDS	1e7	/* a time in a timeline: 116 days, far past any window */

struct vd_check {
	char check[32], result[16], detail[256], coverage[256];
	char thresholds[256];	/* "ratio 1.5, min_delta_ns 20000"; "" for none */
	double p;
	double alpha;		/* < 0: none given */
};

struct vd_fn {
	char verdict[16], attach[32];
	struct vd_check checks[VD_MAX_CHECKS];
	size_t n;
};

struct vd_blocker {
	__s64 pid;
	char comm[64];
	char stack[4096];	/* lines; "" when unreadable */
};

struct vd_look {
	double t_s, alpha, p;
	__u64 calls;
	char decision[16], check[32], function[512], result[16];
};

struct verdict_detail {
	char patch[128], params[1024], policy[16];
	char revert_error[640], revert_overrun[256];
	__u64 looks;
	bool operational;
	struct vd_fn *fns;		/* as many as verdict_doc's, in its order */
	struct vd_check sys[VD_MAX_CHECKS];
	size_t nsys;
	char faults[VD_MAX_FAULTS][512];
	size_t nfaults;
	bool have_stall;
	double stall_elapsed_s;		/* < 0: unknown */
	struct vd_blocker *blockers;
	size_t nblockers;
	bool have_timeline;
	double baseline_s, completed_s;	/* completed_s < 0: not completed */
	char transition[16];		/* completed, stalled, not reached */
	struct vd_look *tl;
	size_t ntl;
	__u64 not_listed;
	bool have_revert;
	double revert_start_s, revert_end_s;
	char revert_result[32];
};

/* From doc (a verdict whose functions[] verdict_read has checked: nfns of them). */
int verdict_detail__read(struct json_object *doc, size_t nfns, struct verdict_detail *d,
			 char *why, size_t len);
void verdict_detail__free(struct verdict_detail *d);

#endif
