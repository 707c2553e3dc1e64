// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "engine.h"

/*
 * Calls stopped: a look with no call at all, where the baseline's rate
 * promised at least this many (Poisson: P(0 | 10) = 4.5e-5), after a baseline
 * of at least min_calls. Whatever the patch does can then no longer be seen.
 * Under a CPU budget the exposure is the time each function's probes were
 * attached since its last call was seen, and only once that is a whole look
 * long: a look that fell in a gap promises no call, and neither does a
 * sliver of a window, where a slow patch's calls may not have returned yet
 * (the daemon judging the lab's slow getpid patch read "calls stopped" so,
 * the baseline's rate promising hundreds in a look's few attached ms).
 */
#define CALLS_STOPPED_EXPECTED 10.0

const char *engine_action__name(enum engine_action a)
{
	static const char *const names[] = {
		[ENGINE_CONTINUE] = "continue", [ENGINE_KEEP] = "keep",
		[ENGINE_REVERT] = "revert", [ENGINE_INCONCLUSIVE] = "inconclusive",
	};

	return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

void engine__stop(enum engine_stop stop, bool observing, struct engine_decision *out)
{
	memset(out, 0, sizeof(*out));
	switch (stop) {
	case ENGINE_STOP_NONE:
		out->action = ENGINE_CONTINUE;
		return;
	case ENGINE_STOP_STALLED:
		/* A patch that cannot settle is a failure of the patch: judged, not operational. */
		out->action = ENGINE_REVERT;
		out->verdict = VERDICT_FAIL;
		out->reason = "the patch transition stalled";
		return;
	case ENGINE_STOP_INTERRUPTED:
		out->reason = observing ? "interrupted while observing" :
			      "interrupted before the patch settled";
		break;
	case ENGINE_STOP_PROBES_DEAD:
		out->reason = "the probes failed";
		break;
	case ENGINE_STOP_GONE:
		out->reason = "the patch went away before it was judged";
		break;
	}
	out->action = ENGINE_INCONCLUSIVE;
	out->verdict = VERDICT_INCONCLUSIVE;
	out->operational = true;
}

void idle_track__start(struct idle_track *t, double att_s)
{
	*t = (struct idle_track){ .last_s = att_s };
}

double idle_track__look(struct idle_track *t, double att_s, __u64 calls)
{
	t->idle_s = calls != t->calls_prev ? 0 : t->idle_s + fmax(0, att_s - t->last_s);
	t->last_s = att_s;
	t->calls_prev = calls;
	return t->idle_s;
}

void engine__unjudged(struct func_judgement *fj, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&fj[i], 0, sizeof(fj[i]));
		fj[i].verdict = VERDICT_INCONCLUSIVE;
	}
}

static bool calls_stopped(const struct engine_look *in)
{
	double expected = 0;
	__u64 base = 0;

	if (in->calls_in_look)
		return false;
	for (size_t i = 0; i < in->n * (in->strata ? in->strata : 1); i++) {
		double exposure = in->sampled ? in->obs[i].idle_s : in->look_s;

		if (in->base[i].none || in->base[i].seconds <= 0)
			continue;
		base += in->base[i].hist->calls;
		if (in->sampled && exposure < in->def->look_interval_s)
			continue;
		expected += (double)in->base[i].hist->calls / in->base[i].seconds * exposure;
	}
	return base >= in->def->min_calls && expected >= CALLS_STOPPED_EXPECTED;
}

void engine__look(const struct engine_look *in, struct func_judgement *fj,
		  struct func_judgement *sysj, struct engine_decision *out)
{
	double share = judge__alpha_for_look(1.0, in->t_prev, in->t);
	size_t k = in->strata ? in->strata : 1;
	enum verdict worst = VERDICT_PASS;

	if (in->stop != ENGINE_STOP_NONE || !in->observing) {
		engine__stop(in->stop, in->observing, out);
		return;
	}
	memset(out, 0, sizeof(*out));
	if (calls_stopped(in)) {
		out->action = ENGINE_INCONCLUSIVE;
		out->verdict = VERDICT_INCONCLUSIVE;
		out->operational = true;
		out->reason = "calls stopped while observing (the workload ended, or nothing "
			      "calls the patched functions any more): no sound judgement";
		return;
	}
	for (size_t i = 0; i < in->n; i++) {
		judge__strata(&in->base[i * k], &in->obs[i * k], k, &in->fr[i],
			      in->fr[i].alpha * share, &fj[i]);
		if (fj[i].verdict > worst)
			worst = fj[i].verdict;
	}
	judge__system(in->sys_base, in->sys_obs, in->def, in->def->alpha * share, sysj);
	if (sysj->verdict > worst)
		worst = sysj->verdict;
	out->verdict = worst;
	if (worst == VERDICT_FAIL) {
		out->action = ENGINE_REVERT;
		out->reason = in->t < 1 ? "regression found before the end of the window" : "regression";
	} else if (in->t < 1) {
		out->action = ENGINE_CONTINUE;
	} else if (worst == VERDICT_INCONCLUSIVE && in->def->inconclusive_revert) {
		out->action = ENGINE_REVERT;
		out->reason = !in->n ? "no function was measured and the system checks were "
				       "inconclusive; the rules say revert" :
			      "inconclusive, and the rules say revert";
	} else {
		/* A keep on partial evidence says so where people read the verdict. */
		bool partial = judge__partial(fj, in->n, sysj) != NULL;

		out->action = ENGINE_KEEP;
		/* Nothing measured: what the verdict rests on is said, whatever it is. */
		if (!in->n)
			out->reason = worst == VERDICT_INCONCLUSIVE ?
				"no function was measured and the system checks were "
				"inconclusive; the rules say keep" :
				"no function was measured; the transition completed and the "
				"system checks found nothing";
		else if (worst == VERDICT_INCONCLUSIVE)
			out->reason = partial ? "inconclusive, and the rules say keep; lock "
				      "contention seen for sleeping locks only" :
				      "inconclusive, and the rules say keep";
		else
			out->reason = partial ? "no regression seen, but lock contention only for "
				      "sleeping locks: spinlock contention is invisible on this host" :
				      "no regression";
	}
}
