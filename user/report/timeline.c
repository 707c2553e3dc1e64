// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include "timeline.h"

void timeline__init(struct timeline *t)
{
	*t = (struct timeline){ .transition_s = -1, .revert_start_s = -1, .revert_end_s = -1 };
}

/* Is c a worse reason for the decision than the best so far? Worst result, then smallest p. */
static bool worse(const struct check_result *c, const struct timeline_look *best)
{
	if (!best->check)
		return true;
	if (c->result != best->result)
		return c->result > best->result;
	return c->p < best->p;
}

/* l's deciding check becomes the worst of fj's, if worse; function NULL: a system check. */
static void consider(struct timeline_look *l, const struct func_judgement *fj, const char *function)
{
	for (size_t k = 0; k < fj->n; k++)
		if (worse(&fj->checks[k], l)) {
			l->check = fj->checks[k].check;
			l->function = function;
			l->result = fj->checks[k].result;
			l->p = fj->checks[k].p;
		}
}

int timeline__look(struct timeline *t, double now, const struct lps_hist *obs, double alpha,
		   double share, const char *decision, const struct func_judgement *fj,
		   const char *const *names, size_t stride, size_t n,
		   const struct func_judgement *sys)
{
	struct timeline_look l = { .t_s = now - t->t_load, .alpha = alpha * share,
				   .decision = decision, .p = 1 };

	t->share = share;
	for (size_t i = 0; i < n; i++)
		l.calls += obs[i].calls;
	for (size_t i = 0; i < n; i++)
		consider(&l, &fj[i], names[i * stride]);
	if (sys)
		consider(&l, sys, NULL);
	/* Past the cap, the last slot is overwritten: the decision's look is always there. */
	if (t->n == TIMELINE_MAX_LOOKS) {
		t->not_listed++;
		t->looks[t->n - 1] = l;
		return 0;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct timeline_look *m = realloc(t->looks, cap * sizeof(*m));

		if (!m)
			return -ENOMEM;
		t->looks = m;
		t->cap = cap;
	}
	t->looks[t->n++] = l;
	return 0;
}

static struct json_object *seconds(double s)
{
	return s < 0 ? NULL : json_object_new_double(s);
}

struct json_object *timeline__json(const struct timeline *t)
{
	struct json_object *o = json_object_new_object(), *looks = json_object_new_array();
	struct json_object *tr = json_object_new_object(), *rv = NULL;

	json_object_object_add(o, "baseline_s", json_object_new_double(t->baseline_s));
	json_object_object_add(o, "loaded", json_object_new_boolean(t->t_load > 0));
	json_object_object_add(tr, "result", json_object_new_string(
		t->stalled ? "stalled" : t->transition_s >= 0 ? "completed" : "not reached"));
	json_object_object_add(tr, "completed_s", seconds(t->transition_s));
	json_object_object_add(o, "transition", tr);
	for (size_t i = 0; i < t->n; i++) {
		const struct timeline_look *l = &t->looks[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "t_s", json_object_new_double(l->t_s));
		json_object_object_add(j, "calls", json_object_new_uint64(l->calls));
		json_object_object_add(j, "alpha", json_object_new_double(l->alpha));
		json_object_object_add(j, "decision", json_object_new_string(l->decision));
		json_object_object_add(j, "check", l->check ? json_object_new_string(l->check) : NULL);
		json_object_object_add(j, "function", l->function ?
				       json_object_new_string(l->function) : NULL);
		json_object_object_add(j, "result", l->check ?
				       json_object_new_string(verdict__name(l->result)) : NULL);
		json_object_object_add(j, "p", json_object_new_double(l->p));
		json_object_array_add(looks, j);
	}
	json_object_object_add(o, "looks", looks);
	json_object_object_add(o, "looks_not_listed", json_object_new_uint64(t->not_listed));
	if (t->revert_start_s >= 0) {
		rv = json_object_new_object();
		json_object_object_add(rv, "started_s", seconds(t->revert_start_s));
		json_object_object_add(rv, "ended_s", seconds(t->revert_end_s));
		json_object_object_add(rv, "result", json_object_new_string(
			t->revert_result ? t->revert_result : "unknown"));
	}
	json_object_object_add(o, "revert", rv);
	return o;
}

void timeline__free(struct timeline *t)
{
	free(t->looks);
	timeline__init(t);
}
