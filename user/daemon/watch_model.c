// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's model: watched functions, their probe groups and rolling
 * baselines (one tick per slot, the newest left out), the system's signals,
 * and the record of every patch seen.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "log.h"
#include "clock.h"
#include "watch.h"

const char *patch_state__name(enum patch_state s)
{
	static const char *const names[PATCH_STATE_NR] = {
		[PATCH_TRANSITION] = "transition", [PATCH_OBSERVING] = "observing",
		[PATCH_KEPT] = "kept", [PATCH_REVERTED] = "reverted", [PATCH_GONE] = "gone",
		[PATCH_FAILED] = "failed", [PATCH_PRESENT] = "present", [PATCH_JUDGING] = "judging",
	};

	return (size_t)s < PATCH_STATE_NR ? names[s] : "gone";
}

enum patch_state patch_state__parse(const char *name)
{
	for (int s = 0; s < PATCH_STATE_NR; s++)
		if (!strcmp(name, patch_state__name(s)))
			return s;
	return PATCH_GONE;
}

bool patch_state__judging(enum patch_state s)
{
	return s == PATCH_TRANSITION || s == PATCH_OBSERVING;
}

struct watch_fn *watch__find_fn(struct watch *w, const char *name)
{
	for (size_t i = 0; i < w->nfns; i++)
		if (!strcmp(w->fns[i].name, name))
			return &w->fns[i];
	return NULL;
}

struct watch_patch *watch__patch(struct watch *w, const char *name)
{
	struct watch_patch *v;

	for (size_t i = 0; i < w->npatches; i++)
		if (!strcmp(w->patches[i].name, name))
			return &w->patches[i];
	v = realloc(w->patches, (w->npatches + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->patches = v;
	v = &w->patches[w->npatches++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->state = PATCH_TRANSITION;
	return v;
}

enum attach_mode watch__fn_mode(const struct watch_fn *fn)
{
	return fn->grp && fn->grp->ps ? probe_set__info(fn->grp->ps, fn->idx)->mode : ATTACH_AUTO;
}

const struct budget_set *watch__fn_budget_set(const struct watch_fn *fn)
{
	return fn->grp && fn->cpu_budget > 0 ? fn->grp->bs : NULL;
}

const char *watch__fn_traced_as(const struct watch_fn *fn)
{
	const struct probe_info *pi = fn->grp && fn->grp->ps ?
				      probe_set__info(fn->grp->ps, fn->idx) : NULL;

	return pi ? probe_info__traced_as(pi) : NULL;
}

static void add_hist(void *d, const void *s) { hist_add(d, s); }
static void add_double(void *d, const void *s) { *(double *)d += *(const double *)s; }
static void add_sig(void *d, const void *s) { signals__add(d, s); }

int watch_fn__init(struct watch_fn *fn, const char *name, size_t ring_len)
{
	memset(fn, 0, sizeof(*fn));
	snprintf(fn->name, sizeof(fn->name), "%s", name);
	fn->since = clock__unix_s();
	ring__init(&fn->tick, ring_len);
	fn->ring = calloc(ring_len, sizeof(*fn->ring));
	fn->ring_s = calloc(ring_len, sizeof(*fn->ring_s));
	if (fn->ring && fn->ring_s)
		return 0;
	watch_fn__free(fn);
	return -ENOMEM;
}

void watch_fn__push(struct watch_fn *fn, const struct lps_hist *cum_now, double dt)
{
	hist_delta(&fn->ring[fn->tick.pos], cum_now, &fn->cum);
	fn->ring_s[fn->tick.pos] = dt;
	ring__advance(&fn->tick);
	fn->cum = *cum_now;
	fn->seen_s += dt;
}

void watch_fn__push_probe(struct watch_fn *fn, const struct lps_hist *reading, double dt)
{
	struct lps_hist now = *reading;

	hist_add(&now, &fn->carry);
	watch_fn__push(fn, &now, dt);
}

const char *watch_fn__state_name(const struct watch_fn *fn)
{
	return fn->state == FN_WAITING ? "waiting" : "traced";
}

int watch__patch_functions(const struct klp_patch_entry *p, const char ***names,
			   const char ***objs, unsigned long **sympos)
{
	size_t total = 0, n = 0;

	for (size_t o = 0; o < p->nobjs; o++)
		total += p->objs[o].nfuncs;
	*names = calloc(total + 1, sizeof(**names));
	*objs = calloc(total + 1, sizeof(**objs));
	*sympos = calloc(total + 1, sizeof(**sympos));
	if (!*names || !*objs || !*sympos) {
		free(*names);
		free(*objs);
		free(*sympos);
		*names = *objs = NULL;
		*sympos = NULL;
		return -ENOMEM;
	}
	for (size_t o = 0; o < p->nobjs; o++)
		for (size_t f = 0; f < p->objs[o].nfuncs; f++) {
			bool dup = false;

			for (size_t k = 0; k < n; k++)
				dup |= !strcmp((*names)[k], p->objs[o].funcs[f].name);
			if (dup)
				continue;
			(*names)[n] = p->objs[o].funcs[f].name;
			(*sympos)[n] = p->objs[o].funcs[f].sympos;
			(*objs)[n++] = p->objs[o].name;
		}
	return (int)n;
}

void watch_fn__free(struct watch_fn *fn)
{
	free(fn->ring);
	free(fn->ring_s);
	free(fn->sring);
	fn->ring = NULL;
	fn->ring_s = NULL;
	fn->sring = NULL;
}

/* The baseline watch__baseline gives, and the attach method that measured it. */
static bool baseline_of(const struct watch *w, const struct watch_fn *fn, struct lps_hist *out,
			double *seconds, enum attach_mode *mode)
{
	if (fn->judging) {
		*out = fn->frozen;
		*seconds = fn->frozen_s;
		*mode = fn->frozen_mode;
		return !fn->frozen_none;
	}
	memset(out, 0, sizeof(*out));
	*seconds = 0;
	ring__sum(&fn->tick, fn->ring, sizeof(*fn->ring), add_hist, out);
	ring__sum(&fn->tick, fn->ring_s, sizeof(*fn->ring_s), add_double, seconds);
	*mode = watch__fn_mode(fn);
	if (out->calls >= w->def.min_calls || !fn->have_saved)
		return out->calls > 0;
	/* Too thin yet: the state file's baseline stands in, with its method. */
	*out = fn->saved;
	*seconds = fn->saved_s;
	*mode = fn->saved_mode;
	return true;
}

enum attach_mode watch__baseline_mode(const struct watch *w, const struct watch_fn *fn)
{
	enum attach_mode mode;
	struct lps_hist b;
	double s;

	baseline_of(w, fn, &b, &s, &mode);
	return mode;
}

bool watch__baseline(const struct watch *w, const struct watch_fn *fn, struct lps_hist *out,
		     double *seconds)
{
	enum attach_mode mode;

	return baseline_of(w, fn, out, seconds, &mode);
}

bool watch__sig_baseline(const struct watch *w, const struct watch_fn *fn,
			 struct lps_func_signals *out)
{
	struct lps_hist h;

	memset(out, 0, sizeof(*out));
	if (fn->judging) {
		*out = fn->sfrozen;
		return fn->sfrozen_ok;
	}
	if (!fn->has_sig)
		return false;
	memset(&h, 0, sizeof(h));
	ring__sum(&fn->tick, fn->ring, sizeof(*fn->ring), add_hist, &h);
	/* Only beside the histogram it belongs to: not when that came from the state file. */
	if (h.calls < w->def.min_calls)
		return false;
	ring__sum(&fn->tick, fn->sring, sizeof(*fn->sring), add_sig, out);
	return true;
}

bool watch__sys_baseline(const struct watch *w, struct lps_func_signals *sig, struct lps_hist *runq,
			 double *seconds)
{
	const struct watch_sys *y = &w->sys;

	memset(sig, 0, sizeof(*sig));
	memset(runq, 0, sizeof(*runq));
	*seconds = 0;
	if (!y->sig || ring__older(&y->tick) < 1)
		return false;
	ring__sum(&y->tick, y->ring_s, sizeof(*y->ring_s), add_double, seconds);
	ring__sum(&y->tick, y->ring, sizeof(*y->ring), add_sig, sig);
	ring__sum(&y->tick, y->runq_ring, sizeof(*y->runq_ring), add_hist, runq);
	return true;
}

void watch__free_model(struct watch *w)
{
	/* The signal probes use the first group's task stacks: they go first. */
	if (w->sys.grp && w->sys.grp->bs)
		budget_set__signals(w->sys.grp->bs, NULL);
	signals__destroy(w->sys.sig);
	w->sys.sig = NULL;
	free(w->sys.ring);
	free(w->sys.runq_ring);
	free(w->sys.ring_s);
	while (w->ngroups)
		watch__drop_group(w, w->groups[w->ngroups - 1]);
	free(w->groups);
	free(w->mods);
	for (size_t i = 0; i < w->nfns; i++)
		watch_fn__free(&w->fns[i]);
	free(w->fns);
	free(w->patches);
}
