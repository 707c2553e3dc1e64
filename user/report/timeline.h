/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A verdict's course in time, for people who read it afterwards (the HTML
 * report): when the patch was loaded, when its transition completed or
 * stalled, every look with its calls, its share of alpha and its decision,
 * and the revert. Times are seconds since the load. Written into the verdict
 * JSON as "timeline" by gate and the watch daemon; read back by verdict_detail.c.
 */
#ifndef LPS_TIMELINE_H
#define LPS_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include <linux/types.h>
#include "judge.h"
#include "lpsentinel.h"

/* Looks kept; later ones are counted (looks_not_listed), the decision's look always kept. */
#define TIMELINE_MAX_LOOKS 2000

struct timeline_look {
	double t_s;		/* since the load */
	__u64 calls;		/* observed calls of all functions up to this look */
	double alpha;		/* this look's share of the alpha budget (the rules' default) */
	const char *decision;	/* engine_action__name: continue, keep, revert, inconclusive */
	/* The deciding check: the worst result, then the smallest p (NULL: none judged). */
	const char *check, *function;	/* function NULL: a system check */
	enum verdict result;
	double p;
};

struct timeline {
	double t_load;			/* clock__now_s() at the load; 0: not loaded */
	double baseline_s;		/* the baseline window before it */
	double transition_s;		/* completed after; < 0: not completed */
	bool stalled;
	struct timeline_look *looks;
	size_t n, cap;
	__u64 not_listed;
	double share;			/* the last look's share of alpha: its checks' alpha */
	double revert_start_s, revert_end_s;	/* < 0: no revert */
	const char *revert_result;		/* klp_life_state__name after it */
};

void timeline__init(struct timeline *t);
/*
 * One look at clock time now, testing at alpha * share (judge__alpha_for_look): obs[n] the observed windows, fj[n] and sys the
 * checks as the engine left them, names[i * stride] function i's name.
 * -ENOMEM when it cannot be kept (the report then lacks that look).
 */
int timeline__look(struct timeline *t, double now, const struct lps_hist *obs, double alpha,
		   double share, const char *decision, const struct func_judgement *fj,
		   const char *const *names, size_t stride, size_t n,
		   const struct func_judgement *sys);
/* The "timeline" object of docs/verbs.md. */
struct json_object *timeline__json(const struct timeline *t);
void timeline__free(struct timeline *t);

#endif
