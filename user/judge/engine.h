/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a verdict is made: the one decision that gate, the watch daemon and
 * overhead take about a patch, at each look of its observe window and when
 * observing cannot go on. Pure: the caller brings the evidence and the clock,
 * the engine runs the checks (judge.c), spends alpha across the looks and
 * says continue, keep, revert or inconclusive, with the reason people read.
 */
#ifndef LPS_ENGINE_H
#define LPS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "judge.h"

enum engine_action {
	ENGINE_CONTINUE,	/* keep observing */
	ENGINE_KEEP,		/* the window is over and nothing regressed (or the rules keep) */
	ENGINE_REVERT,		/* a regression, or an inconclusive end the rules revert */
	/*
	 * No sound judgement is possible (calls stopped, probes dead, stopped by
	 * the user): the patch must not stay unjudged, so it is reverted too,
	 * but this is an operational stop, not a verdict on the patch.
	 */
	ENGINE_INCONCLUSIVE,
};

/* What the caller saw that ends observing; the engine decides what it means. */
enum engine_stop {
	ENGINE_STOP_NONE,
	ENGINE_STOP_INTERRUPTED,	/* SIGINT/SIGTERM while the patch was in */
	ENGINE_STOP_PROBES_DEAD,	/* a probe failed its check or could not be read */
	ENGINE_STOP_STALLED,		/* the patching transition did not finish in time */
	ENGINE_STOP_GONE,		/* the patch went away (someone else removed it) */
};

/* One look: everything the decision depends on. */
struct engine_look {
	double t_prev, t;		/* fractions of the observe window, previous look and this one */
	double look_s;			/* this look's length, seconds */
	bool observing;			/* false: still in the transition (only stops apply) */
	enum engine_stop stop;
	size_t n;			/* functions */
	/*
	 * Hosts per function (`pool`); 0 or 1: one. base and obs then hold
	 * n * strata windows, function by function (judge__strata).
	 */
	size_t strata;
	const struct func_window *base, *obs;
	const struct rules_set *fr;	/* per function */
	const struct sys_window *sys_base, *sys_obs;
	const struct rules_set *def;	/* the patch's own rules: system checks, policy */
	__u64 calls_in_look;		/* new calls of all functions since the previous look */
	bool sampled;			/* CPU budgets: the exposure is obs[i].idle_s */
};

struct engine_decision {
	enum engine_action action;
	enum verdict verdict;
	const char *reason;		/* static text */
	bool operational;		/* reverted because it could not be judged */
};

/*
 * Decides one look. Runs the checks (unless a stop makes them moot) into
 * fj[n] and *sysj with this look's share of alpha. Rules, in order:
 * a stop; calls stopped; a failing check; the end of the window.
 */
void engine__look(const struct engine_look *in, struct func_judgement *fj,
		  struct func_judgement *sysj, struct engine_decision *out);

/*
 * Functions not judged yet (no look has run: a transition that stalled, a
 * stop before observing): inconclusive, with no checks. Never a pass.
 */
void engine__unjudged(struct func_judgement *fj, size_t n);

/* The stop rule alone, for callers that stop outside a look (overhead, a load that stalls). */
void engine__stop(enum engine_stop stop, bool observing, struct engine_decision *out);

const char *engine_action__name(enum engine_action a);

/*
 * Under a CPU budget, per function and kept across looks: how long its probes
 * have been attached since its last call was seen (func_window.idle_s).
 * gate and watch each keep one per function.
 */
struct idle_track {
	double idle_s;		/* attached since its last call was seen */
	double last_s;		/* seconds attached at the previous look */
	__u64 calls_prev;	/* its observed calls then */
};

/* Starts at att_s seconds attached, no call observed yet. */
void idle_track__start(struct idle_track *t, double att_s);
/* A look at att_s seconds attached and calls observed in all: its idle_s. */
double idle_track__look(struct idle_track *t, double att_s, __u64 calls);

#endif
