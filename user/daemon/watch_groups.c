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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "klp_sysfs.h"
#include "ksyms.h"
#include "log.h"
#include "targets.h"
#include "clock.h"
#include "watch.h"

/*
 * The signal probes share the task stacks of one probe set: the first of
 * vmlinux functions made (a module's group may go with its module). Its
 * functions get per-function signals; every judgement gets the system's. One
 * instance, so their cost does not grow with the patches seen.
 */
static void sys_open(struct watch *w, struct watch_group *g)
{
	struct watch_sys *y = &w->sys;

	ring__init(&y->tick, watch__ring_len(w, 0));
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
	/* Its budget tells the signals its windows (budget_set.h). */
	if (g->bs)
		budget_set__signals(g->bs, y->sig);
}

static void group_free(struct watch_group *g)
{
	if (!g)
		return;
	budget_set__destroy(g->bs);
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
	/* A judgement waiting on its windows waits no more: they are gone (watch_judge.c). */
	for (struct watch_judgement *j = w->judging; g->bs && j; j = j->next)
		for (size_t i = 0; i < j->n; i++)
			if (j->win_bs[i] == g->bs)
				j->win_bs[i] = NULL;
	if (w->sys.grp == g) {
		w->sys.grp = NULL;
		/* Its budget may have turned the syscall probe off for a gap: not left so. */
		if (w->sys.sig && signals__syscalls(w->sys.sig, true))
			lps_warn("the signals' syscall-entry probe could not be attached again");
	}
	group_free(g);
}

/*
 * One function to watch, decided as inspect and gate decide it (targets.h):
 * probed under the name ftrace lists for its code (__x64_sys_getpid is traced
 * as __do_sys_getpid), by address where several symbols share the name, with
 * kprobes in a module; or waiting for its module; or refused, with the reason.
 */
struct fn_res {
	char obj[WATCH_MODULE_MAX];	/* "vmlinux" or its module: t and r point here */
	struct klp_target t;
	struct target_res r;
	bool waiting;			/* its module is not loaded */
};

static const char *module_of(const struct fn_res *f)
{
	return strcmp(f->obj, "vmlinux") ? f->obj : "";
}

/*
 * Resolves n names: objs (NULL, or an entry NULL: where kallsyms finds it)
 * and sympos (NULL: 0) as a patch names them. Both tables are read once for
 * all the names (a state file can name hundreds). Never fails: a name that
 * cannot be traced says why in its result.
 */
static void resolve(const struct watch *w, const char *const *names, const char *const *objs,
		    const unsigned long *sympos, size_t n, struct fn_res *out)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	int kret = ksyms__load(&ksyms);

	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;	/* locked-down tracefs: attaching says what is refused */
	for (size_t i = 0; i < n; i++) {
		struct fn_res *f = &out[i];
		const char *m = objs ? objs[i] : NULL;
		struct mod_seen seen;

		if (!m && !kret && name_table__count(ksyms, names[i], &m) != 1)
			m = NULL;	/* unknown or ambiguous: said as of vmlinux */
		snprintf(f->obj, sizeof(f->obj), "%s", m ? m : "vmlinux");
		f->t = (struct klp_target){ .object = f->obj, .function = (char *)names[i],
					    .sympos = sympos ? sympos[i] : 0 };
		target__resolve(&f->t, kret ? NULL : ksyms, ftrace, &f->r);
		if (kret)
			snprintf(f->r.why, sizeof(f->r.why), "cannot read /proc/kallsyms: %s",
				 strerror(-kret));
		f->waiting = f->r.state != TARGET_MEASURED && module_of(f)[0] &&
			     (watch_mod__see(w->module_root, f->obj, &seen) || !seen.live);
		/* Live, yet kallsyms has none of it: the patch names what is not there. */
		if (!f->waiting && f->r.state == TARGET_NOT_MEASURED && module_of(f)[0] && !kret &&
		    !name_table__has_module(ksyms, f->obj)) {
			f->r.state = TARGET_INVALID;
			snprintf(f->r.why, sizeof(f->r.why), "unknown function: not in "
				 "/proc/kallsyms for module %s", f->obj);
		}
	}
	name_table__free(ksyms);
	name_table__free(ftrace);
}

/* The first name that can neither be traced nor wait: its -errno, perr saying why; or 0. */
static int refused(const struct fn_res *res, size_t n, struct probe_err *perr)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].waiting || res[i].r.state == TARGET_MEASURED)
			continue;
		snprintf(perr->func, sizeof(perr->func), "%s", res[i].t.function);
		snprintf(perr->what, sizeof(perr->what), "%s", res[i].r.why);
		return res[i].r.state == TARGET_INVALID ? -ENOENT : -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Functions to watch, sorted by object: one probe set for each. Under a
 * budget for any of them, the set's probes are kprobes (budget_set__mode).
 */
struct part {
	char module[WATCH_MODULE_MAX];	/* "": vmlinux */
	struct probe_spec *specs;
	size_t *at;			/* index of each in the caller's names */
	double *pct;			/* the budget of each (watch__fn_budget) */
	size_t n;
	bool budgeted;
	struct probe_set *ps;
};

static void parts_free(struct part *parts, size_t nparts)
{
	for (size_t p = 0; p < nparts; p++) {
		probe_set__destroy(parts[p].ps);
		free(parts[p].specs);
		free(parts[p].at);
		free(parts[p].pct);
	}
	free(parts);
}

/* Sorts the names that are not waiting into parts; how many parts, or -ENOMEM. */
static int partition(struct watch *w, const struct fn_res *res, size_t n, struct part **out)
{
	struct part *parts = calloc(n + 1, sizeof(*parts));
	size_t nparts = 0;

	*out = parts;
	if (!parts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct watch_fn *known;
		size_t p;

		if (res[i].waiting)
			continue;
		for (p = 0; p < nparts && strcmp(parts[p].module, module_of(&res[i])); p++)
			;
		if (p == nparts) {
			snprintf(parts[p].module, sizeof(parts[p].module), "%s", module_of(&res[i]));
			parts[p].specs = calloc(n, sizeof(*parts[p].specs));
			parts[p].at = calloc(n, sizeof(*parts[p].at));
			parts[p].pct = calloc(n, sizeof(*parts[p].pct));
			nparts++;
			if (!parts[p].specs || !parts[p].at || !parts[p].pct)
				return -ENOMEM;
		}
		/* A function known already keeps the budget its ring was made for. */
		known = watch__find_fn(w, res[i].t.function);
		parts[p].pct[parts[p].n] = known ? known->cpu_budget :
					   watch__fn_budget(w, res[i].t.function);
		parts[p].budgeted |= parts[p].pct[parts[p].n] > 0;
		parts[p].at[parts[p].n] = i;
		target__spec(&res[i].t, &res[i].r, &parts[p].specs[parts[p].n++]);
	}
	return (int)nparts;
}

/* One more function record; -ENOMEM. Groups point at functions by index: realloc is safe. */
static int add_fn(struct watch *w, const struct fn_res *f)
{
	double pct = watch__fn_budget(w, f->t.function);
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
	if (watch_fn__init(fn, f->t.function, watch__ring_len(w, pct)))
		return -ENOMEM;
	fn->cpu_budget = pct;	/* for good: its ring was made for it */
	snprintf(fn->module, sizeof(fn->module), "%s", module_of(f));
	fn->sympos = f->t.sympos;
	fn->state = f->waiting ? FN_WAITING : FN_TRACED;
	w->nfns++;
	return 0;
}

/* A group for a part whose probes are attached; it takes the probe set. */
static int add_part(struct watch *w, struct part *p, const size_t *fn_of)
{
	struct watch_group *g = calloc(1, sizeof(*g)), **gv;
	int ret;

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
	/* Its first windows measure each function's cost (budget_set.h). */
	ret = p->budgeted ? budget_set__new(&g->bs, g->ps, p->pct, clock__now_s()) : 0;
	if (ret) {
		group_free(g);
		return ret;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct watch_fn *fn = &w->fns[fn_of[p->at[i]]];

		g->fn[i] = fn_of[p->at[i]];
		fn->grp = g;
		fn->idx = i;
		fn->att_read = 0;	/* the new probes' budget starts at nothing attached */
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
	int ret;

	*resolving = true;
	for (size_t p = 0; p < nparts; p++) {
		struct probe_set_opts popts = { .mode = ATTACH_AUTO,
						.klp_root = KLP_SYSFS_ROOT_DEFAULT };
		const char *why;

		if (parts[p].budgeted)
			budget_set__mode(ATTACH_AUTO, &popts.mode, &why);
		ret = probe_set__open_specs(&parts[p].ps, parts[p].specs, parts[p].n, &popts, perr);
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
		      const unsigned long *sympos, size_t n, struct probe_err *perr,
		      bool *resolving)
{
	struct fn_res *res = calloc(n + 1, sizeof(*res));
	size_t *fn_of = calloc(n + 1, sizeof(*fn_of));
	size_t first = w->nfns, nparts = 0;
	struct part *parts = NULL;
	double now = clock__unix_s();
	int ret = -ENOMEM;

	*resolving = true;
	if (!res || !fn_of)
		goto cleanup;
	resolve(w, names, objs, sympos, n, res);
	ret = refused(res, n, perr);
	if (ret)
		goto cleanup;
	ret = partition(w, res, n, &parts);
	nparts = ret < 0 ? 0 : (size_t)ret;
	if (ret >= 0)
		ret = attach_parts(w, parts, nparts, perr, resolving);
	if (ret)
		goto cleanup;
	for (size_t i = 0; i < n && !ret; i++) {
		fn_of[i] = w->nfns;
		ret = add_fn(w, &res[i]);
		if (!ret && module_of(&res[i])[0] && !watch__mod(w, res[i].obj))
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
	free(res);
	free(fn_of);
	return ret;
}

int watch__trace_fns(struct watch *w, const size_t *idx, size_t n, const char *module, char *why,
		     size_t len)
{
	const char **names = calloc(n + 1, sizeof(*names)), **objs = calloc(n + 1, sizeof(*objs));
	unsigned long *sympos = calloc(n + 1, sizeof(*sympos));
	struct fn_res *res = calloc(n + 1, sizeof(*res));
	struct part *parts = NULL;
	struct probe_err perr = { 0 };
	double now = clock__unix_s();
	bool resolving;
	int ret = -ENOMEM;

	if (!names || !objs || !sympos || !res)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		names[i] = w->fns[idx[i]].name;
		objs[i] = module[0] ? module : "vmlinux";
		sympos[i] = w->fns[idx[i]].sympos;
	}
	resolve(w, names, objs, sympos, n, res);
	for (size_t i = 0; i < n; i++)
		res[i].waiting = false;	/* it is loaded: each is traced now, or says why not */
	ret = refused(res, n, &perr);
	if (!ret)
		ret = partition(w, res, n, &parts);
	if (ret == 1)
		ret = attach_parts(w, parts, 1, &perr, &resolving);
	else if (ret >= 0)
		ret = -EINVAL;	/* one object, one part */
	if (!ret)
		ret = add_part(w, &parts[0], idx);
	if (ret)
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes",
			 perr.what[0] ? perr.what : strerror(-ret));
	for (size_t i = 0; !ret && i < n; i++) {
		w->fns[idx[i]].state = FN_TRACED;
		w->fns[idx[i]].since = now;
	}
cleanup:
	if (ret == -ENOMEM && !perr.what[0])
		snprintf(why, len, "out of memory");
	parts_free(parts, parts ? 1 : 0);
	free(names);
	free(objs);
	free(sympos);
	free(res);
	return ret;
}

int watch__add_group(struct watch *w, const char *const *names, const char *const *objs,
		     const unsigned long *sympos, size_t n, char *why, size_t len)
{
	struct probe_err perr = { 0 };
	bool resolving;
	int ret = add_groups(w, names, objs, sympos, n, &perr, &resolving);

	if (ret)
		snprintf(why, len, "%s: %s", perr.func[0] ? perr.func : "probes", perr.what);
	return ret;
}

/*
 * Leaves out of names (in place, with their objects and sympos; how many
 * stay) those the kernel cannot trace at all, as resolve decides: a patch
 * naming hundreds of functions that are gone costs one reading of the
 * tables, not one attempt each (800 names: 75 s). One line says how many,
 * and the first few.
 */
static size_t traceable(const struct watch *w, const char **names, const char **objs,
			unsigned long *sympos, size_t n)
{
	struct fn_res *res = calloc(n + 1, sizeof(*res));
	char list[400] = "";
	size_t keep = 0, out = 0, used = 0;

	if (!res)
		return n;	/* opening the probes says what is wrong */
	resolve(w, names, objs, sympos, n, res);
	for (size_t i = 0; i < n; i++) {
		if (res[i].waiting || res[i].r.state == TARGET_MEASURED) {
			if (objs)
				objs[keep] = objs[i];
			if (sympos)
				sympos[keep] = sympos[i];
			names[keep++] = names[i];
			continue;
		}
		if (out++ < 5 && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
						 used ? ", " : "", names[i], res[i].r.why);
	}
	if (out)
		lps_warn("%zu function%s not traced: %s%s", out, out == 1 ? "" : "s", list,
			 out > 5 ? ", ..." : "");
	free(res);
	return keep;
}

int watch__add_group_tolerant(struct watch *w, const char **names, const char **objs,
			      unsigned long *sympos, size_t n)
{
	n = traceable(w, names, objs, sympos, n);
	while (n) {
		struct probe_err perr = { 0 };
		bool resolving;
		size_t k;
		int ret = add_groups(w, names, objs, sympos, n, &perr, &resolving);

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
		if (sympos)
			sympos[k] = sympos[n];
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
		for (size_t i = 0; i < g->n; i++) {
			struct watch_fn *fn = &w->fns[g->fn[i]];
			const struct budget_set *bs = watch__fn_budget_set(fn);
			double seen = dt;

			/* Under a budget a tick lasts the seconds its probes were attached in it. */
			if (bs) {
				double att = budget_set__attached_s(bs, i, now);

				seen = fmax(0, att - fn->att_read);
				fn->att_read = att;
			}
			watch_fn__push_probe(fn, &g->buf[i], seen);
		}
	}
	return 0;
}
