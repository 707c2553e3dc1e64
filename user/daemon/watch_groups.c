// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's probe groups: which functions get probes together, attaching
 * them, reading them into the functions' rings every tick, and dropping them.
 * A group holds the functions of one object (vmlinux, or one module), so that
 * a module that goes takes only its own probes with it (watch_modules.c). A
 * function of a module that is not loaded gets its record but no probes: it
 * waits for the module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "klp_sysfs.h"
#include "ksyms.h"
#include "log.h"
#include "clock.h"
#include "watch.h"

/* The rules' memory estimate (rules__ring_bytes) counts the same slots. */
static size_t ring_len(const struct watch *w)
{
	return rules__ring_slots(w->def.baseline_s, w->tick_s);
}

/*
 * The signal probes share the task stacks of one probe set: the first of
 * vmlinux functions made (a module's group may go with its module). Its
 * functions get per-function signals; every judgement gets the system's. One
 * instance, so their cost does not grow with the patches seen.
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

static void group_free(struct watch_group *g)
{
	if (!g)
		return;
	probe_set__destroy(g->ps);
	free(g->fn);
	free(g->buf);
	free(g);
}

void watch__drop_group(struct watch *w, struct watch_group *g)
{
	for (size_t i = 0; i < w->ngroups; i++) {
		if (w->groups[i] != g)
			continue;
		memmove(&w->groups[i], &w->groups[i + 1], (w->ngroups - i - 1) * sizeof(*w->groups));
		w->ngroups--;
		break;
	}
	for (size_t i = 0; i < g->n; i++)
		if (g->fn[i] < w->nfns && w->fns[g->fn[i]].grp == g)
			w->fns[g->fn[i]].grp = NULL;
	if (w->sys.grp == g)
		w->sys.grp = NULL;
	group_free(g);
}

/* Functions to watch, sorted by object: one probe set for each. */
struct part {
	char module[WATCH_MODULE_MAX];	/* "": vmlinux */
	const char **names;
	size_t *at;			/* index of each in the caller's names */
	size_t n;
	struct probe_set *ps;
};

/*
 * The object of each name: where kallsyms finds it; else, when the patch
 * names a module that is not live, that module, and the function waits.
 * Names kallsyms does not know otherwise go to vmlinux, where opening the
 * probes says why they cannot be traced.
 */
static void objects_of(const struct watch *w, const char *const *names, const char *const *objs,
		       size_t n, char (*mod)[WATCH_MODULE_MAX], bool *waiting)
{
	struct name_table *ksyms = NULL;

	if (ksyms__load(&ksyms))
		ksyms = NULL;	/* opening the probes says why */
	for (size_t i = 0; i < n; i++) {
		const char *m = NULL;
		struct mod_seen seen;

		mod[i][0] = 0;
		if (ksyms && name_table__count(ksyms, names[i], &m)) {
			snprintf(mod[i], sizeof(mod[i]), "%s", m ? m : "");
			continue;
		}
		if (!objs || !objs[i] || !strcmp(objs[i], "vmlinux"))
			continue;
		snprintf(mod[i], sizeof(mod[i]), "%s", objs[i]);
		waiting[i] = watch_mod__see(w->module_root, objs[i], &seen) || !seen.live;
	}
	name_table__free(ksyms);
}

static void parts_free(struct part *parts, size_t nparts)
{
	for (size_t p = 0; p < nparts; p++) {
		probe_set__destroy(parts[p].ps);
		free(parts[p].names);
		free(parts[p].at);
	}
	free(parts);
}

/* Sorts the names that are not waiting into parts; how many parts, or -ENOMEM. */
static int partition(const char *const *names, size_t n, char (*mod)[WATCH_MODULE_MAX],
		     const bool *waiting, struct part **out)
{
	struct part *parts = calloc(n + 1, sizeof(*parts));
	size_t nparts = 0;

	*out = parts;
	if (!parts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t p;

		if (waiting[i])
			continue;
		for (p = 0; p < nparts && strcmp(parts[p].module, mod[i]); p++)
			;
		if (p == nparts) {
			memcpy(parts[p].module, mod[i], sizeof(parts[p].module));
			parts[p].names = calloc(n, sizeof(*parts[p].names));
			parts[p].at = calloc(n, sizeof(*parts[p].at));
			nparts++;
			if (!parts[p].names || !parts[p].at)
				return -ENOMEM;
		}
		parts[p].at[parts[p].n] = i;
		parts[p].names[parts[p].n++] = names[i];
	}
	return (int)nparts;
}

/* One more function record; -ENOMEM. Groups point at functions by index: realloc is safe. */
static int add_fn(struct watch *w, const char *name, const char *module, enum fn_state state)
{
	struct watch_fn *fn;

	if (w->nfns == w->capfns) {
		size_t cap = w->capfns ? w->capfns * 2 : 16;
		struct watch_fn *v = realloc(w->fns, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->fns = v;
		w->capfns = cap;
	}
	fn = &w->fns[w->nfns];
	if (watch_fn__init(fn, name, ring_len(w)))
		return -ENOMEM;
	snprintf(fn->module, sizeof(fn->module), "%s", module);
	fn->state = state;
	w->nfns++;
	return 0;
}

/* A group for a part whose probes are attached; it takes the probe set. */
static int add_part(struct watch *w, struct part *p, const size_t *fn_of)
{
	struct watch_group *g = calloc(1, sizeof(*g)), **gv;

	if (!g)
		return -ENOMEM;
	g->fn = calloc(p->n, sizeof(*g->fn));
	g->buf = calloc(p->n, sizeof(*g->buf));
	gv = realloc(w->groups, (w->ngroups + 1) * sizeof(*gv));
	if (gv)
		w->groups = gv;
	if (!g->fn || !g->buf || !gv) {
		group_free(g);
		return -ENOMEM;
	}
	memcpy(g->module, p->module, sizeof(g->module));
	g->ps = p->ps;
	p->ps = NULL;
	g->n = p->n;
	for (size_t i = 0; i < p->n; i++) {
		struct watch_fn *fn = &w->fns[fn_of[p->at[i]]];

		g->fn[i] = fn_of[p->at[i]];
		fn->grp = g;
		fn->idx = i;
	}
	w->groups[w->ngroups++] = g;
	if (!w->sys.sig && !w->sys.why[0] && !g->module[0])
		sys_open(w, g);
	return 0;
}

/* Each part's probes, opened all before any is attached: a name that cannot be traced costs no attach. */
static int attach_parts(struct watch *w, struct part *parts, size_t nparts, struct probe_err *perr,
			bool *resolving)
{
	struct probe_set_opts popts = { .mode = ATTACH_AUTO, .klp_root = KLP_SYSFS_ROOT_DEFAULT };
	int ret;

	*resolving = true;
	for (size_t p = 0; p < nparts; p++) {
		ret = probe_set__open(&parts[p].ps, parts[p].names, parts[p].n, &popts, perr);
		if (ret)
			return ret;
	}
	*resolving = false;
	for (size_t p = 0; p < nparts; p++) {
		/* Which load the probes go on: seen before attaching, so a reload after it is noticed. */
		if (parts[p].module[0]) {
			struct watch_mod *m = watch__mod(w, parts[p].module);
			struct mod_seen seen;

			if (!m)
				return -ENOMEM;
			if (!watch_mod__see(w->module_root, m->name, &seen)) {
				m->live = seen.live;
				m->ino = seen.ino;
			}
		}
		ret = probe_set__attach(parts[p].ps, perr);
		if (ret)
			return ret;
	}
	return 0;
}

/* watch__add_group; *resolving says whether it failed before attaching anything. */
static int add_groups(struct watch *w, const char *const *names, const char *const *objs,
		      size_t n, struct probe_err *perr, bool *resolving)
{
	char (*mod)[WATCH_MODULE_MAX] = calloc(n + 1, sizeof(*mod));
	bool *waiting = calloc(n + 1, sizeof(*waiting));
	size_t *fn_of = calloc(n + 1, sizeof(*fn_of));
	size_t first = w->nfns, nparts = 0;
	struct part *parts = NULL;
	double now = clock__unix_s();
	int ret = -ENOMEM;

	*resolving = true;
	if (!mod || !waiting || !fn_of)
		goto cleanup;
	objects_of(w, names, objs, n, mod, waiting);
	ret = partition(names, n, mod, waiting, &parts);
	nparts = ret < 0 ? 0 : (size_t)ret;
	if (ret >= 0)
		ret = attach_parts(w, parts, nparts, perr, resolving);
	if (ret)
		goto cleanup;
	for (size_t i = 0; i < n && !ret; i++) {
		fn_of[i] = w->nfns;
		ret = add_fn(w, names[i], mod[i], waiting[i] ? FN_WAITING : FN_TRACED);
		if (!ret && mod[i][0] && !watch__mod(w, mod[i]))
			ret = -ENOMEM;
	}
	for (size_t p = 0; p < nparts && !ret; p++)
		ret = add_part(w, &parts[p], fn_of);
	if (ret) {	/* out of memory: none of this call's functions stays */
		while (w->ngroups && w->groups[w->ngroups - 1]->fn[0] >= first)
			watch__drop_group(w, w->groups[w->ngroups - 1]);
		while (w->nfns > first)
			watch_fn__free(&w->fns[--w->nfns]);
		snprintf(perr->what, sizeof(perr->what), "out of memory");
		goto cleanup;
	}
	for (size_t i = first; i < w->nfns; i++) {
		w->fns[i].since = now;
		watch_persist__adopt(w, &w->fns[i]);
		if (w->fns[i].state == FN_WAITING)
			fprintf(stderr, "lpsentinel watch: %s: module %s is not loaded; traced when "
				"it is\n", w->fns[i].name, w->fns[i].module);
	}
cleanup:
	parts_free(parts, nparts);
	free(mod);
	free(waiting);
	free(fn_of);
	return ret;
}

int watch__trace_fns(struct watch *w, const size_t *idx, size_t n, const char *module, char *why,
		     size_t len)
{
	struct part p = { .n = n };
	struct probe_err perr = { 0 };
	double now = clock__unix_s();
	bool resolving;
	int ret = -ENOMEM;

	snprintf(p.module, sizeof(p.module), "%s", module);
	p.names = calloc(n + 1, sizeof(*p.names));
	p.at = calloc(n + 1, sizeof(*p.at));
	if (p.names && p.at) {
		for (size_t i = 0; i < n; i++) {
			p.names[i] = w->fns[idx[i]].name;
			p.at[i] = i;
		}
		ret = attach_parts(w, &p, 1, &perr, &resolving);
		if (!ret)
			ret = add_part(w, &p, idx);
	}
	if (ret)
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes",
			 perr.what[0] ? perr.what : strerror(-ret));
	for (size_t i = 0; !ret && i < n; i++) {
		w->fns[idx[i]].state = FN_TRACED;
		w->fns[idx[i]].since = now;
	}
	probe_set__destroy(p.ps);
	free(p.names);
	free(p.at);
	return ret;
}

int watch__add_group(struct watch *w, const char *const *names, const char *const *objs,
		     size_t n, char *why, size_t len)
{
	struct probe_err perr = { 0 };
	bool resolving;
	int ret = add_groups(w, names, objs, n, &perr, &resolving);

	if (ret)
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes", perr.what);
	return ret;
}

/*
 * Leaves out of names (in place, with their objects; how many stay) those the
 * kernel cannot trace at all: not in /proc/kallsyms (unless the patch puts
 * them in a module not loaded yet: those wait), more than one symbol of that
 * name, or not in available_filter_functions. Both tables are read once for
 * all the names: opening probes reads them again for every attempt, and a
 * state file or a patch naming hundreds of functions that are gone cost one
 * attempt each (800 names: 75 s). One line says how many, and the first few.
 */
static size_t traceable(const struct watch *w, const char **names, const char **objs, size_t n)
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
		const char *obj = objs ? objs[i] : NULL;
		struct mod_seen seen;
		const char *why = !c ? "unknown" : c > 1 ? "ambiguous" :
				  ftrace && !name_table__count(ftrace, names[i], NULL) ?
				  "not traceable" : NULL;

		if (!c && obj && strcmp(obj, "vmlinux") &&
		    (watch_mod__see(w->module_root, obj, &seen) || !seen.live))
			why = NULL;	/* its module is not loaded: it waits */
		if (!why) {
			if (objs)
				objs[keep] = obj;
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

int watch__add_group_tolerant(struct watch *w, const char **names, const char **objs, size_t n)
{
	n = traceable(w, names, objs, n);
	while (n) {
		struct probe_err perr = { 0 };
		bool resolving;
		size_t k;
		int ret = add_groups(w, names, objs, n, &perr, &resolving);

		if (!ret)
			return 0;
		lps_warn("%s: %s; not watched", perr.func[0] ? perr.func : "probes", perr.what);
		/* One name the kernel refused: the others are tried again without it. */
		for (k = 0; k < n && strcmp(names[k], perr.func); k++)
			;
		if (!resolving || k == n)
			return ret;
		names[k] = names[--n];
		if (objs)
			objs[k] = objs[n];
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
			watch_fn__push_probe(&w->fns[g->fn[i]], &g->buf[i], dt);
	}
	return 0;
}
