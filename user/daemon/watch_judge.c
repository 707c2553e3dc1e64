// SPDX-License-Identifier: GPL-2.0
/*
 * Where the watch daemon judges a livepatch that appeared, however it was
 * loaded: freeze the baselines of its functions (tracing the ones not yet
 * watched), wait for its transition, observe with the same judge and alpha
 * spending as gate, then keep it or revert it, and write the decision to the
 * audit trail.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "hist.h"
#include "klp_control.h"
#include "klp_report.h"
#include "kmsg.h"
#include "log.h"
#include "watch.h"
#include "clock.h"

static void judgement_free(struct watch_judgement *j)
{
	free(j->fn);
	free(j->start);
	free(j->obs);
	free(j->seen_start);
	free(j->idle);
	free(j->win_mark);
	free(j->win_bs);
	free(j->fr);
	free(j->j);
	free(j->names);
	free(j->sstart);
	free(j->sobs);
	free(j->base);
	free(j->base_s);
	free(j->base_none);
	free(j->sbase);
	timeline__free(&j->tl);
	free(j->sbase_ok);
	free(j->base_mode);
	free(j->waiting);
	kfault_log__free(&j->faults);
	klp_life__close(&j->life);
	for (size_t i = 0; i < j->nunprobed; i++)
		free(j->unprobed[i]);
	free(j->unprobed);
	free(j);
}

/*
 * Functions no probe could be set up for (the kernel refused the BPF maps or
 * programs: ENOMEM, EAGAIN...): kept by name with the error, counted, and
 * judged as the rules' inconclusive policy says (step()).
 */
static void note_unprobed(struct watch *w, struct watch_judgement *j, const char *const *fresh,
			  size_t n, const char *why)
{
	size_t skip = 0;

	/* why is "FUNCTION: what"; each record names its function already. */
	for (size_t i = 0; i < n; i++)
		if (!strncmp(why, fresh[i], strlen(fresh[i])) && !strncmp(why + strlen(fresh[i]), ": ", 2))
			skip = strlen(fresh[i]) + 2;
	j->unprobed = calloc(n, sizeof(*j->unprobed));
	snprintf(j->unprobed_why, sizeof(j->unprobed_why), "%s", why + skip);
	for (size_t i = 0; j->unprobed && i < n; i++)
		if ((j->unprobed[j->nunprobed] = strdup(fresh[i])))
			j->nunprobed++;
	w->probe_failures += n;
}

int watch_judge__start(struct watch *w, const struct klp_patch_entry *p)
{
	size_t total, nnew = 0, n = 0;
	const char **names = NULL, **objs = NULL, **fresh, **fobjs;
	unsigned long *sympos = NULL, *fsympos;
	struct watch_judgement *j;
	struct watch_client *client;
	struct watch_patch *rec;
	char why[300];
	int ret = 0;

	ret = watch__patch_functions(p, &names, &objs, &sympos);
	total = ret < 0 ? 0 : (size_t)ret;
	fresh = calloc(total + 1, sizeof(*fresh));
	fobjs = calloc(total + 1, sizeof(*fobjs));
	fsympos = calloc(total + 1, sizeof(*fsympos));
	j = calloc(1, sizeof(*j));
	if (j) {
		j->life.fd = -1;	/* nothing to close until adopted */
		timeline__init(&j->tl);
	}
	if (ret < 0 || !fresh || !fobjs || !fsympos || !j) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = 0;
	client = watch__client(w, p->name);
	j->def = client ? client->def : w->def;
	for (size_t i = 0; i < total; i++)
		if (!watch__find_fn(w, names[i])) {
			fobjs[nnew] = objs[i];
			fsympos[nnew] = sympos[i];
			fresh[nnew++] = names[i];
		}
	/* Left half-judged by a killed run, and disabled since: that run was reverting it. */
	rec = watch__patch(w, p->name);
	j->resumed_disabled = rec && rec->state == PATCH_JUDGING && p->enabled == 0;
	/*
	 * Saved as being judged before the slow part (attaching probes takes
	 * seconds): a daemon killed from here on judges it again on restart
	 * instead of taking it for a patch loaded before it started.
	 */
	if (rec) {
		rec->state = PATCH_TRANSITION;
		rec->judged = false;
		rec->at = clock__unix_s();
		watch_persist__save(w);
	}
	/* Not watched before: traced from now, with the kernel's safe method for patched code. */
	if (nnew && watch__add_group(w, fresh, fobjs, fsympos, nnew, why, sizeof(why))) {
		lps_warn("%s: cannot probe %zu function%s: %s; %s not judged (the rules' "
			 "inconclusive policy applies)", p->name, nnew, nnew == 1 ? "" : "s", why,
			 nnew == 1 ? "it is" : "they are");
		note_unprobed(w, j, fresh, nnew, why);
	}
	snprintf(j->patch, sizeof(j->patch), "%s", p->name);
	/* Now: once reverted and unloaded, its notes are gone from sysfs. */
	identity__loaded_module(j->patch, j->build_id, sizeof(j->build_id));
	j->fn = calloc(total + 1, sizeof(*j->fn));
	j->start = calloc(total + 1, sizeof(*j->start));
	j->obs = calloc(total + 1, sizeof(*j->obs));
	j->fr = calloc(total + 1, sizeof(*j->fr));
	j->j = calloc(total + 1, sizeof(*j->j));
	j->names = calloc(3 * total + 1, sizeof(*j->names));
	j->sstart = calloc(total + 1, sizeof(*j->sstart));
	j->sobs = calloc(total + 1, sizeof(*j->sobs));
	j->base = calloc(total + 1, sizeof(*j->base));
	j->base_s = calloc(total + 1, sizeof(*j->base_s));
	j->base_none = calloc(total + 1, sizeof(*j->base_none));
	j->sbase = calloc(total + 1, sizeof(*j->sbase));
	j->sbase_ok = calloc(total + 1, sizeof(*j->sbase_ok));
	j->base_mode = calloc(total + 1, sizeof(*j->base_mode));
	j->waiting = calloc(total + 1, sizeof(*j->waiting));
	j->seen_start = calloc(total + 1, sizeof(*j->seen_start));
	j->idle = calloc(total + 1, sizeof(*j->idle));
	j->win_mark = calloc(total + 1, sizeof(*j->win_mark));
	j->win_bs = calloc(total + 1, sizeof(*j->win_bs));
	if (!j->seen_start || !j->idle || !j->win_mark || !j->win_bs ||
	    !j->waiting || !j->fn || !j->start || !j->obs || !j->fr || !j->j || !j->names || !j->sstart || !j->sobs ||
	    !j->base || !j->base_s || !j->base_none || !j->sbase || !j->sbase_ok || !j->base_mode) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < total; i++) {
		struct watch_fn *fn = watch__find_fn(w, names[i]);

		if (!fn)
			continue;
		/*
		 * Its module is not loaded: the patch changes nothing there yet, and
		 * when the module arrives it runs patched from its first call. Not
		 * measured, and said so.
		 */
		if (fn->state == FN_WAITING) {
			j->waiting[j->nwaiting++] = (size_t)(fn - w->fns);
			continue;
		}
		/*
		 * The baseline stops here: from now on the patch may be running. A
		 * patch arriving while another of the function is judged gets the
		 * same frozen baseline: the code before either.
		 */
		if (!fn->judging) {	/* before counting it: watch__baseline reads the live ring */
			fn->frozen_mode = watch__baseline_mode(w, fn);
			fn->frozen_none = !watch__baseline(w, fn, &fn->frozen, &fn->frozen_s);
			fn->sfrozen_ok = !fn->frozen_none && watch__sig_baseline(w, fn, &fn->sfrozen);
		}
		fn->judging++;
		j->base[n] = fn->frozen;
		j->base_s[n] = fn->frozen_s;
		j->base_none[n] = fn->frozen_none;
		j->sbase[n] = fn->sfrozen;
		j->sbase_ok[n] = fn->sfrozen_ok;
		j->base_mode[n] = fn->frozen_mode;
		j->fn[n] = (size_t)(fn - w->fns);
		if (client && client->rules.loaded)
			rules__for_function(&client->rules, fn->name, &j->fr[n]);
		else if (!client && w->rules.loaded)
			rules__for_function(&w->rules, fn->name, &j->fr[n]);
		else
			j->fr[n] = j->def;
		if (client) {	/* the gate's window lengths apply to every function */
			j->fr[n].observe_s = j->def.observe_s;
			j->fr[n].baseline_s = j->def.baseline_s;
		}
		n++;
	}
	j->n = n;
	j->sys_ok = watch__sys_baseline(w, &j->sys_base, &j->runq_base, &j->sys_base_s);
	klp_life__adopt(&j->life, p->name, clock__now_s());
	j->tl.t_load = j->life.t_start;		/* first seen: the report's "load" */
	j->tl.baseline_s = j->def.baseline_s;
	/* It appeared at most one tick ago; its faults count from then. */
	j->since_usec = kmsg__now_usec() - (__u64)(w->tick_s * 1.5e6);
	j->next = w->judging;
	w->judging = j;
	if (rec) {
		rec->state = PATCH_TRANSITION;
		rec->judged = false;
		rec->at = clock__unix_s();
	}
	w->dirty = true;	/* saved this tick: a daemon killed now judges it again on restart */
	j = NULL;
cleanup:
	if (j)
		judgement_free(j);
	free(names);
	free(objs);
	free(fresh);
	free(fobjs);
	free(sympos);
	free(fsympos);
	return ret;
}

void watch_judge__feed_log(struct watch *w, const char *text, __u64 ts_usec)
{
	for (struct watch_judgement *j = w->judging; j; j = j->next)
		if (ts_usec >= j->since_usec)
			kfault_log__feed(&j->faults, text);
}

/* Records the decision, updates counters, unfreezes the functions; frees j. */
static void finish(struct watch *w, struct watch_judgement *j, const struct engine_decision *d,
		   enum patch_state state, const char *reason)
{
	const char *action = patch_state__name(state);
	bool reverted = state == PATCH_REVERTED;
	enum verdict v = d->verdict;
	struct json_object *doc;
	struct watch_patch *rec = watch__patch(w, j->patch);
	struct watch_client *client = watch__client(w, j->patch);
	char summary[1024], full[768], why[200];
	int ret;

	if (j->nwaiting) {	/* what the verdict does not cover, in the reason people read */
		watch_verdict__waiting_why(&w->fns[j->waiting[0]], why, sizeof(why));
		snprintf(full, sizeof(full), "%s; %zu function%s not measured (%s: %s%s)", reason,
			 j->nwaiting, j->nwaiting == 1 ? "" : "s", w->fns[j->waiting[0]].name, why,
			 j->nwaiting > 1 ? ", and the others" : "");
		reason = full;
	}
	doc = watch_verdict__json(w, j, v, action, reason, d->operational);
	/* A gate's patch: the module parameters it was loaded with, in the audit and the reply. */
	if (client)
		json_object_object_add(doc, "params", json_object_new_string(client->life.params));
	if (j->life.overrun[0])	/* its revert ran past the bound: which kernel call held it */
		json_object_object_add(doc, "revert_overrun", json_object_new_string(j->life.overrun));
	snprintf(summary, sizeof(summary), "patch %s: %s, %s (%s)", j->patch, verdict__name(v),
		 action, reason);
	ret = audit__record(&w->audit, doc, reverted ? LOG_WARNING : LOG_NOTICE, summary);
	if (ret)
		lps_warn("audit trail: cannot append: %s", strerror(-ret));
	fprintf(stderr, "lpsentinel watch: %s\n", summary);
	if (client) {
		json_object_object_add(doc, "judged_by", json_object_new_string("watch daemon"));
		watch__client_done(w, client, doc);
	}
	json_object_put(doc);
	if (rec) {
		rec->state = state;
		rec->verdict = v;
		rec->judged = true;
		rec->at = clock__unix_s();
	}
	w->verdicts[v]++;
	for (size_t i = 0; i < j->n; i++) {
		struct watch_fn *fn = &w->fns[j->fn[i]];

		if (--fn->judging)
			continue;	/* another patch of it is still judged against the frozen baseline */
		/*
		 * The ring saw the patched code; the next patch must be judged against
		 * the code that now runs: the observed window if kept, the frozen
		 * baseline if reverted, until the ring has refilled.
		 */
		ring__reset(&fn->tick);
		if (reverted && !j->base_none[i]) {
			fn->saved = j->base[i];
			fn->saved_s = j->base_s[i];
			fn->saved_mode = j->base_mode[i];
			fn->have_saved = true;
		} else if (state == PATCH_KEPT && j->t_obs_start > 0) {
			fn->saved = j->obs[i];
			fn->saved_s = fn->seen_s - j->seen_start[i];
			fn->saved_mode = watch__fn_mode(fn);
			fn->have_saved = true;
		}
	}
	w->dirty = true;
	judgement_free(j);
}

/* Takes the patch back out (no force) and records the decision, whatever came of the revert. */
static void revert(struct watch *w, struct watch_judgement *j, const struct engine_decision *d)
{
	char why[512], full[768];
	double t0 = clock__now_s();
	int ret = klp_life__take_out(&j->life, j->def.revert_timeout_s, why, sizeof(why));

	j->tl.revert_start_s = t0 - j->tl.t_load;
	j->tl.revert_end_s = clock__now_s() - j->tl.t_load;
	j->tl.revert_result = klp_life_state__name(j->life.state);

	if (j->life.overrun[0])	/* the kernel held a call past the bound: said, not hidden */
		lps_warn("%s: %s", j->life.patch, j->life.overrun);

	if (!ret || j->life.state == KLP_LIFE_REVERTED) {
		w->reverts++;
		if (ret)
			lps_warn("%s", why);
		finish(w, j, d, PATCH_REVERTED, d->reason);
		return;
	}
	w->revert_failures++;
	snprintf(full, sizeof(full), "%s; revert failed: %s", d->reason, why);
	finish(w, j, d, PATCH_FAILED, full);
}

/*
 * Under a budget the observe window lasts until every budgeted function has
 * had a whole attached window in it (budget__window_since); gate's lasts
 * whole cycles, gap included, to cost the budget, but the daemon's budgets
 * run on whatever it judges. A function whose probes were replaced since
 * (its module went and came back) has no window to wait for.
 */
static bool windows_done(const struct watch *w, const struct watch_judgement *j)
{
	for (size_t i = 0; i < j->n; i++) {
		const struct watch_fn *fn = &w->fns[j->fn[i]];

		if (!j->win_bs[i] || !fn->grp || fn->grp->bs != j->win_bs[i])
			continue;
		if (!budget__window_since(budget_set__get(j->win_bs[i], fn->idx), j->win_mark[i]))
			return false;
	}
	return true;
}

void watch_judge__look(struct watch *w, struct watch_judgement *j, double now,
		       struct engine_decision *out)
{
	struct sys_window sb = { 0 }, so = { 0 };
	struct func_window *b = calloc(j->n + 1, sizeof(*b)), *o = calloc(j->n + 1, sizeof(*o));
	struct lps_func_signals sys_obs;
	struct lps_hist runq_obs;
	double t = fmin(1, (now - j->t_obs_start) / j->def.observe_s);
	struct engine_look in;
	__u64 total = 0;

	/*
	 * Past its length under a budget, the window is held until every
	 * function has had a whole window in it: those looks spend no alpha (t
	 * stays where it was), and the last look, then, spends what is left.
	 */
	if (t >= 1 && j->sampled && !windows_done(w, j))
		t = j->t_prev;
	in = (struct engine_look){
		.t_prev = j->t_prev, .t = t, .look_s = now - j->t_look, .observing = true,
		.n = j->n, .base = b, .obs = o, .fr = j->fr, .sys_base = &sb, .sys_obs = &so,
		.def = &j->def, .sampled = j->sampled,
	};

	j->t_prev = t;
	j->t_look = now;
	if (!b || !o) {
		in.stop = ENGINE_STOP_PROBES_DEAD;
		goto decide;
	}
	for (size_t i = 0; i < j->n; i++) {
		struct watch_fn *fn = &w->fns[j->fn[i]];
		enum attach_mode mode = watch__fn_mode(fn);

		b[i] = (struct func_window){ .hist = &j->base[i], .seconds = j->base_s[i],
					     .none = j->base_none[i] };
		/* The seconds its probes saw: under a budget, those attached. */
		o[i] = (struct func_window){ .hist = &j->obs[i], .seconds = fn->seen_s - j->seen_start[i] };
		/*
		 * fentry and kprobes add different costs to every call: a baseline of
		 * one and an observation of the other differ by that alone (a restart
		 * with the patch live traces it with kprobes).
		 */
		if (j->base_mode[i] != ATTACH_AUTO && mode != ATTACH_AUTO && j->base_mode[i] != mode)
			b[i].incomparable = mode == ATTACH_KPROBE ?
				"baseline measured with fentry probes, the patched code with kprobes: "
				"latencies not comparable" :
				"baseline measured with kprobes, the patched code with fentry probes: "
				"latencies not comparable";
		/* By name, not pointer: w->fns moves when functions are added. */
		j->names[3 * i] = fn->name;
		hist_delta(&j->obs[i], &fn->cum, &j->start[i]);
		total += fn->cum.calls;
		o[i].idle_s = idle_track__look(&j->idle[i], fn->seen_s, j->obs[i].calls);
		if (j->sbase_ok[i]) {
			signals__sub(&j->sobs[i], &fn->scum, &j->sstart[i]);
			b[i].sig = &j->sbase[i];
			o[i].sig = &j->sobs[i];
			o[i].lock_coverage = w->sys.sig ? signals__lock_coverage(w->sys.sig) : NULL;
		}
		o[i].faults = kfault_log__count_naming(&j->faults, &j->names[3 * i], &o[i].fault_line);
	}
	in.calls_in_look = total - j->calls_seen;
	j->calls_seen = total;
	if (j->sys_ok) {
		signals__sub(&sys_obs, &w->sys.cum, &j->sys_start);
		hist_delta(&runq_obs, &w->sys.runq_cum, &j->runq_start);
		sb.seconds = j->sys_base_s;
		sb.sig = &j->sys_base;
		sb.runq = &j->runq_base;
		so.seconds = now - j->t_obs_start;
		so.sig = &sys_obs;
		so.runq = &runq_obs;
		so.lock_coverage = w->sys.sig ? signals__lock_coverage(w->sys.sig) : NULL;
	}
	so.faults = j->faults.n;
	so.fault_line = j->faults.n ? j->faults.v[0].line : NULL;
	so.log_unreadable = w->kmsg_fd < 0 || w->log_err;
decide:
	engine__look(&in, j->j, &j->sysj, out);
	timeline__look(&j->tl, now, j->obs, j->def.alpha, judge__alpha_for_look(1.0, in.t_prev, in.t),
		       engine_action__name(out->action), j->j, j->names, 3, j->n, &j->sysj);
	free(b);
	free(o);
}

/* The transition is complete: observing starts from the counters as they are now. */
static void begin_observing(struct watch *w, struct watch_judgement *j, double now)
{
	for (size_t i = 0; i < j->n; i++) {
		const struct watch_fn *fn = &w->fns[j->fn[i]];

		j->start[i] = fn->cum;
		j->sstart[i] = fn->scum;
		j->calls_seen += j->start[i].calls;
		j->seen_start[i] = fn->seen_s;
		idle_track__start(&j->idle[i], fn->seen_s);
		j->win_bs[i] = watch__fn_budget_set(fn);
		if (j->win_bs[i]) {
			j->win_mark[i] = budget__window_mark(budget_set__get(j->win_bs[i], fn->idx));
			j->sampled = true;
		}
	}
	j->sys_start = w->sys.cum;
	j->runq_start = w->sys.runq_cum;
	j->t_obs_start = j->t_look = now;
	j->tl.transition_s = now - j->tl.t_load;
	if (watch__patch(w, j->patch))
		watch__patch(w, j->patch)->state = PATCH_OBSERVING;
}

/*
 * What the probes saw passed, but some functions were never probed: their
 * verdict is unknown, so the patch's is inconclusive and the rules'
 * inconclusive policy decides, as for too few calls.
 */
static void unprobed_policy(struct watch_judgement *j, struct engine_decision *d)
{
	bool revert = j->def.inconclusive_revert;

	if (d->verdict == VERDICT_PASS)
		d->verdict = VERDICT_INCONCLUSIVE;
	snprintf(j->reason, sizeof(j->reason), "%zu function%s could not be probed (%s%s: %s): "
		 "inconclusive, and the rules say %s", j->nunprobed, j->nunprobed == 1 ? "" : "s",
		 j->unprobed[0], j->nunprobed > 1 ? " and the others" : "", j->unprobed_why,
		 revert ? "revert" : "keep");
	d->reason = j->reason;
	d->action = revert ? ENGINE_REVERT : ENGINE_KEEP;
}

/* One judgement's step; true when it finished (and was freed). */
static bool step(struct watch *w, struct watch_judgement *j)
{
	bool observing = j->life.state == KLP_LIFE_PATCHED;
	/* When the counters were read: a look's length is the time they cover. */
	double now = w->last_read ? w->last_read : clock__now_s();
	struct engine_decision d;
	int ret = klp_life__poll(&j->life, j->def.transition_timeout_s);

	if (ret == -ENOENT && j->resumed_disabled && klp_control__module_loaded(j->patch)) {
		/* Our killed run's revert, finished by the kernel: the unload is left to do. */
		engine__stop(ENGINE_STOP_GONE, observing, &d);
		d.reason = "a previous run was killed while reverting it; the unpatch completed, "
			   "the revert is finished here (module unloaded)";
		revert(w, j, &d);
		return true;
	}
	if (ret == -ENOENT) {
		engine__stop(ENGINE_STOP_GONE, observing, &d);
		finish(w, j, &d, PATCH_GONE, d.reason);
		return true;
	}
	if (ret == -ETIMEDOUT) {
		j->tl.stalled = true;
		engine__stop(ENGINE_STOP_STALLED, false, &d);
		revert(w, j, &d);
		return true;
	}
	if (!ret)
		return false;	/* still patching */
	if (!observing) {
		begin_observing(w, j, now);
		return false;
	}
	j->looks++;
	watch_judge__look(w, j, now, &d);
	if (j->nunprobed && d.action == ENGINE_KEEP)
		unprobed_policy(j, &d);
	switch (d.action) {
	case ENGINE_CONTINUE:
		return false;
	case ENGINE_KEEP:
		finish(w, j, &d, PATCH_KEPT, d.reason);
		return true;
	case ENGINE_REVERT:
	case ENGINE_INCONCLUSIVE:
		revert(w, j, &d);
		return true;
	}
	return false;
}

void watch_judge__tick(struct watch *w)
{
	struct watch_judgement **pp = &w->judging;

	while (*pp) {
		struct watch_judgement *j = *pp, *next = j->next;

		if (step(w, j))
			*pp = next;
		else
			pp = &j->next;
	}
}

void watch_judge__free_all(struct watch *w)
{
	while (w->judging) {
		struct watch_judgement *next = w->judging->next;

		judgement_free(w->judging);
		w->judging = next;
	}
}

bool watch_judge__active(const struct watch *w, const char *patch)
{
	for (const struct watch_judgement *j = w->judging; j; j = j->next)
		if (!strcmp(j->patch, patch))
			return true;
	return false;
}
