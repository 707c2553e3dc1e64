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
#include "klp_sysfs.h"
#include "ksyms.h"
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
	return fn->grp ? probe_set__info(fn->grp->ps, fn->idx)->mode : ATTACH_AUTO;
}

static void add_hist(void *d, const void *s) { hist_add(d, s); }
static void add_double(void *d, const void *s) { *(double *)d += *(const double *)s; }
static void add_sig(void *d, const void *s) { signals__add(d, s); }

int watch_fn__init(struct watch_fn *fn, const char *name, size_t ring_len)
{
	memset(fn, 0, sizeof(*fn));
	snprintf(fn->name, sizeof(fn->name), "%s", name);
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

/* The rules' memory estimate (rules__ring_bytes) counts the same slots. */
static size_t ring_len(const struct watch *w)
{
	return rules__ring_slots(w->def.baseline_s, w->tick_s);
}

/*
 * The signal probes share the task stacks of one probe set: the first one
 * made. Its functions get per-function signals; every judgement gets the
 * system's. One instance, so their cost does not grow with the patches seen.
 */
static void sys_open(struct watch *w, struct watch_group *g)
{
	struct watch_sys *y = &w->sys;

	ring__init(&y->tick, ring_len(w));
	if (signals__open(&y->sig, g->n, probe_set__task_stacks_fd(g->ps), y->why, sizeof(y->why))) {
		y->sig = NULL;
		lps_warn("%s; lock_contention, kernel page faults and runqueue_latency are not judged",
			 y->why);
		return;
	}
	y->ring = calloc(y->tick.len, sizeof(*y->ring));
	y->runq_ring = calloc(y->tick.len, sizeof(*y->runq_ring));
	y->ring_s = calloc(y->tick.len, sizeof(*y->ring_s));
	for (size_t i = 0; i < g->n; i++) {
		struct watch_fn *fn = &w->fns[g->fn[i]];

		fn->sring = calloc(fn->tick.len, sizeof(*fn->sring));
		fn->has_sig = fn->sring != NULL;
	}
	if (!y->ring || !y->runq_ring || !y->ring_s) {
		signals__destroy(y->sig);
		y->sig = NULL;
		snprintf(y->why, sizeof(y->why), "out of memory");
		return;
	}
	y->grp = g;
}

/* New watch_fn entries for names; indices of the first in *first. */
static int add_fns(struct watch *w, const char *const *names, size_t n, size_t *first)
{
	if (w->nfns + n > w->capfns) {
		size_t cap = (w->nfns + n) * 2;
		struct watch_fn *v = realloc(w->fns, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		/* Groups point at functions by index, never by address: realloc is safe. */
		w->fns = v;
		w->capfns = cap;
	}
	*first = w->nfns;
	for (size_t i = 0; i < n; i++) {
		if (watch_fn__init(&w->fns[w->nfns], names[i], ring_len(w))) {
			while (i--)	/* none of this call's functions: they have no probes */
				watch_fn__free(&w->fns[--w->nfns]);
			return -ENOMEM;
		}
		w->nfns++;
	}
	return 0;
}

static void group_free(struct watch_group *g)
{
	if (!g)
		return;
	probe_set__destroy(g->ps);
	free(g->fn);
	free(g->buf);
	free(g);
}

int watch__add_group(struct watch *w, const char *const *names, size_t n, char *why, size_t len)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	struct probe_err perr = { 0 };
	struct watch_group *g = calloc(1, sizeof(*g)), **gv;
	size_t first;
	int ret;

	if (!g)
		return -ENOMEM;
	ret = probe_set__open(&g->ps, names, n, &popts, &perr);
	if (!ret)
		ret = probe_set__attach(g->ps, &perr);
	if (ret) {
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes", perr.what);
		goto fail;
	}
	g->n = n;
	g->fn = calloc(n, sizeof(*g->fn));
	g->buf = calloc(n, sizeof(*g->buf));
	gv = realloc(w->groups, (w->ngroups + 1) * sizeof(*gv));
	if (gv)
		w->groups = gv;
	if (!g->fn || !g->buf || !gv) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = add_fns(w, names, n, &first);
	if (ret)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		g->fn[i] = first + i;
		w->fns[first + i].grp = g;
		w->fns[first + i].idx = i;
		watch_persist__adopt(w, &w->fns[first + i]);
	}
	w->groups[w->ngroups++] = g;
	if (!w->sys.sig && !w->sys.why[0])
		sys_open(w, g);
	return 0;
fail:
	group_free(g);
	return ret;
}

/*
 * Leaves out of names (in place; how many stay) those the kernel cannot trace
 * at all: not in /proc/kallsyms, more than one symbol of that name, or not in
 * available_filter_functions. Both tables are read once for all the names:
 * opening probes reads them again for every attempt, and a state file or a
 * patch naming hundreds of functions that are gone cost one attempt each
 * (800 names: 75 s). One line says how many, and the first few.
 */
static size_t traceable(const char **names, size_t n)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	char list[400] = "";
	size_t keep = 0, out = 0, used = 0;

	if (ksyms__load(&ksyms))
		return n;	/* opening the probes says why */
	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;	/* locked-down tracefs: attaching says what is refused */
	for (size_t i = 0; i < n; i++) {
		size_t c = name_table__count(ksyms, names[i], NULL);
		const char *why = !c ? "unknown" : c > 1 ? "ambiguous" :
				  ftrace && !name_table__count(ftrace, names[i], NULL) ?
				  "not traceable" : NULL;

		if (!why) {
			names[keep++] = names[i];
			continue;
		}
		if (out++ < 5 && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
						 used ? ", " : "", names[i], why);
	}
	if (out)
		lps_warn("%zu function%s not traced: not in /proc/kallsyms, ambiguous or not in "
			 "available_filter_functions: %s%s", out, out == 1 ? "" : "s", list,
			 out > 5 ? ", ..." : "");
	name_table__free(ksyms);
	name_table__free(ftrace);
	return keep;
}

int watch__add_group_tolerant(struct watch *w, const char **names, size_t n)
{
	n = traceable(names, n);
	while (n) {
		struct probe_set *ps = NULL;
		struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
		struct probe_err perr = { 0 };
		size_t k;

		if (!probe_set__open(&ps, names, n, &popts, &perr)) {
			char why[300];
			int ret;

			probe_set__destroy(ps);
			ret = watch__add_group(w, names, n, why, sizeof(why));
			if (ret)
				lps_warn("%s; not watched", why);
			return ret;
		}
		for (k = 0; k < n && strcmp(names[k], perr.func); k++)
			;
		lps_warn("%s: %s; not watched", perr.func[0] ? perr.func : "probes", perr.what);
		if (k == n)
			return -EINVAL;
		names[k] = names[--n];
	}
	return 0;
}

/* The signal counters into the rings, at the slot the histograms are about to fill. */
static int read_signals(struct watch *w, struct watch_group *g, double dt)
{
	struct watch_sys *y = &w->sys;
	struct signals_snapshot snap;
	int ret = signals__read(y->sig, &snap);

	if (ret) {
		lps_err("cannot read the signal probes: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < g->n && i < snap.nfuncs; i++) {
		struct watch_fn *fn = &w->fns[g->fn[i]];

		if (!fn->has_sig)
			continue;
		signals__sub(&fn->sring[fn->tick.pos], &snap.funcs[i], &fn->scum);
		fn->scum = snap.funcs[i];
	}
	y->ring_s[y->tick.pos] = dt;
	signals__sub(&y->ring[y->tick.pos], &snap.sys, &y->cum);
	hist_delta(&y->runq_ring[y->tick.pos], &snap.runq, &y->runq_cum);
	y->cum = snap.sys;
	y->runq_cum = snap.runq;
	ring__advance(&y->tick);
	y->drops = snap.drops[LPS_SDROP_NO_STORAGE] + snap.drops[LPS_SDROP_CALLERS_FULL] +
		   snap.drops[LPS_SDROP_NO_STACK];
	signals_snapshot__free(&snap);
	return 0;
}

int watch__read_groups(struct watch *w)
{
	double now = clock__now_s();
	/* A tick lasts longer when the loop was held up (a revert): count what it was. */
	double dt = w->last_read ? now - w->last_read : w->tick_s;

	w->last_read = now;
	for (size_t gi = 0; gi < w->ngroups; gi++) {
		struct watch_group *g = w->groups[gi];
		struct probe_err perr = { 0 };
		int ret = probe_set__verify(g->ps, &perr);

		if (ret) {
			lps_err("%s: %s", perr.func, perr.what);
			return ret;
		}
		ret = probe_set__read(g->ps, g->buf);
		if (ret) {
			lps_err("cannot read the probes' histograms: %s", strerror(-ret));
			return ret;
		}
		if (g == w->sys.grp) {
			ret = read_signals(w, g, dt);
			if (ret)
				return ret;
		}
		for (size_t i = 0; i < g->n; i++)
			watch_fn__push(&w->fns[g->fn[i]], &g->buf[i], dt);
	}
	return 0;
}

void watch__free_model(struct watch *w)
{
	/* The signal probes use the first group's task stacks: they go first. */
	signals__destroy(w->sys.sig);
	free(w->sys.ring);
	free(w->sys.runq_ring);
	free(w->sys.ring_s);
	for (size_t i = 0; i < w->ngroups; i++)
		group_free(w->groups[i]);
	free(w->groups);
	for (size_t i = 0; i < w->nfns; i++)
		watch_fn__free(&w->fns[i]);
	free(w->fns);
	free(w->patches);
}
