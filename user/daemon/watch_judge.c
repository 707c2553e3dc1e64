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
#include <time.h>
#include "hist.h"
#include "klp_control.h"
#include "klp_report.h"
#include "kmsg.h"
#include "log.h"
#include "report.h"
#include "signals_report.h"
#include "verdict_report.h"
#include "watch.h"
#include "clock.h"

static double unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void judgement_free(struct watch_judgement *j)
{
	free(j->fn);
	free(j->start);
	free(j->obs);
	free(j->fr);
	free(j->j);
	free(j->names);
	free(j->sstart);
	free(j->sobs);
	free(j->base);
	free(j->base_s);
	free(j->base_none);
	free(j->sbase);
	free(j->sbase_ok);
	free(j->base_mode);
	kfault_log__free(&j->faults);
	free(j);
}

int watch_judge__start(struct watch *w, const struct klp_patch_entry *p)
{
	size_t total, nnew = 0, n = 0;
	const char **names = NULL, **fresh;
	struct watch_judgement *j;
	struct watch_client *client;
	struct watch_patch *rec;
	char why[300];
	int ret = 0;

	ret = klp_patch_entry__functions(p, &names);
	total = ret < 0 ? 0 : (size_t)ret;
	fresh = calloc(total + 1, sizeof(*fresh));
	j = calloc(1, sizeof(*j));
	if (ret < 0 || !fresh || !j) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ret = 0;
	client = watch__client(w, p->name);
	j->def = client ? client->def : w->def;
	for (size_t i = 0; i < total; i++)
		if (!watch__find_fn(w, names[i]))
			fresh[nnew++] = names[i];
	/* Not watched before: traced from now, with the kernel's safe method for patched code. */
	if (nnew && watch__add_group(w, fresh, nnew, why, sizeof(why)))
		lps_warn("%s: %s; its %zu functions not watched before are judged without probes",
			 p->name, why, nnew);
	snprintf(j->patch, sizeof(j->patch), "%s", p->name);
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
	if (!j->fn || !j->start || !j->obs || !j->fr || !j->j || !j->names || !j->sstart || !j->sobs ||
	    !j->base || !j->base_s || !j->base_none || !j->sbase || !j->sbase_ok || !j->base_mode) {
		ret = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < total; i++) {
		struct watch_fn *fn = watch__find_fn(w, names[i]);

		if (!fn)
			continue;
		/* The baseline stops here: from now on the patch may be running. */
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
	j->phase = PHASE_TRANSITION;
	j->t_appeared = clock__now_s();
	/* It appeared at most one tick ago; its faults count from then. */
	j->since_usec = kmsg__now_usec() - (__u64)(w->tick_s * 1.5e6);
	j->next = w->judging;
	w->judging = j;
	rec = watch__patch(w, p->name);
	if (rec) {
		rec->state = "transition";
		rec->judged = false;
		rec->at = unix_now();
	}
	w->dirty = true;	/* saved this tick: a daemon killed now judges it again on restart */
	j = NULL;
cleanup:
	if (j)
		judgement_free(j);
	free(names);
	free(fresh);
	return ret;
}

void watch_judge__feed_log(struct watch *w, const char *text, __u64 ts_usec)
{
	for (struct watch_judgement *j = w->judging; j; j = j->next)
		if (ts_usec >= j->since_usec)
			kfault_log__feed(&j->faults, text);
}

static struct json_object *decision_json(const struct watch *w, const struct watch_judgement *j,
					 enum verdict v, const char *action, const char *reason)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
			   *sys = json_object_new_object(), *checks;
	struct check_result tr = { .check = "transition", .p = 1 };
	time_t now = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	json_object_object_add(doc, "time", json_object_new_string(when));
	json_object_object_add(doc, "event", json_object_new_string("verdict"));
	json_object_object_add(doc, "kernel", json_object_new_string(w->kernel));
	json_object_object_add(doc, "patch", json_object_new_string(j->patch));
	json_object_object_add(doc, "verdict", json_object_new_string(verdict__name(v)));
	json_object_object_add(doc, "action", json_object_new_string(action));
	json_object_object_add(doc, "reason", json_object_new_string(reason));
	json_object_object_add(doc, "inconclusive_policy",
			       json_object_new_string(j->def.inconclusive_revert ? "revert" : "keep"));
	json_object_object_add(doc, "looks", json_object_new_int(j->looks));
	for (size_t i = 0; i < j->n; i++) {
		const struct watch_fn *fn = &w->fns[j->fn[i]];
		const struct probe_info *pi = probe_set__info(fn->grp->ps, fn->idx);
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "function", json_object_new_string(fn->name));
		json_object_object_add(f, "object", json_object_new_string(pi->module ? pi->module : "vmlinux"));
		json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(pi->mode)));
		json_object_object_add(f, "verdict", json_object_new_string(verdict__name(j->j[i].verdict)));
		json_object_object_add(f, "baseline", j->base_none[i] ? NULL : report__stats_json(&j->base[i]));
		json_object_object_add(f, "baseline_s", json_object_new_double(j->base_s[i]));
		json_object_object_add(f, "observed", report__stats_json(&j->obs[i]));
		json_object_object_add(f, "checks", verdict_report__checks_json(j->j[i].checks, j->j[i].n));
		if (j->sbase_ok[i]) {
			json_object_object_add(f, "baseline_signals", signals_report__json(&j->sbase[i]));
			json_object_object_add(f, "observed_signals", signals_report__json(&j->sobs[i]));
		}
		json_object_array_add(fns, f);
	}
	json_object_object_add(doc, "functions", fns);
	tr.result = j->phase == PHASE_TRANSITION && v == VERDICT_FAIL ? VERDICT_FAIL : VERDICT_PASS;
	snprintf(tr.detail, sizeof(tr.detail), "%s", j->transition_detail[0] ? j->transition_detail :
		 "patching transition completed");
	checks = verdict_report__system_checks_json(&tr, &j->sysj);
	json_object_object_add(sys, "checks", checks);
	json_object_object_add(sys, "kernel_faults", verdict_report__faults_json(&j->faults));
	json_object_object_add(sys, "signals", json_object_new_string(
		w->sys.sig ? signals__lock_mode(w->sys.sig) : w->sys.why));
	if (j->sys_ok && j->phase == PHASE_OBSERVING) {
		struct lps_func_signals so;
		struct lps_hist ro;

		signals__sub(&so, &w->sys.cum, &j->sys_start);
		hist_delta(&ro, &w->sys.runq_cum, &j->runq_start);
		json_object_object_add(sys, "baseline_signals", signals_report__json(&j->sys_base));
		json_object_object_add(sys, "observed_signals", signals_report__json(&so));
		json_object_object_add(sys, "runqueue_baseline", report__stats_json(&j->runq_base));
		json_object_object_add(sys, "runqueue_observed", report__stats_json(&ro));
	}
	json_object_object_add(doc, "system", sys);
	return doc;
}

/* Records the decision, updates counters, unfreezes the functions; frees j. */
static void finish(struct watch *w, struct watch_judgement *j, enum verdict v, const char *action,
		   const char *reason, bool reverted)
{
	struct json_object *doc = decision_json(w, j, v, action, reason);
	struct watch_patch *rec = watch__patch(w, j->patch);
	char summary[512];
	int ret;

	snprintf(summary, sizeof(summary), "patch %s: %s, %s (%s)", j->patch, verdict__name(v),
		 action, reason);
	ret = audit__record(&w->audit, doc, reverted ? LOG_WARNING : LOG_NOTICE, summary);
	if (ret)
		lps_warn("audit trail: cannot append: %s", strerror(-ret));
	fprintf(stderr, "lpsentinel watch: %s\n", summary);
	if (watch__client(w, j->patch)) {
		json_object_object_add(doc, "judged_by", json_object_new_string("watch daemon"));
		watch__client_done(w, watch__client(w, j->patch), doc);
	}
	json_object_put(doc);
	if (rec) {
		rec->state = action;
		rec->verdict = v;
		rec->judged = true;
		rec->at = unix_now();
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
		fn->ring_fill = 0;
		if (reverted && !j->base_none[i]) {
			fn->saved = j->base[i];
			fn->saved_s = j->base_s[i];
			fn->saved_mode = j->base_mode[i];
			fn->have_saved = true;
		} else if (!reverted && j->phase == PHASE_OBSERVING) {
			fn->saved = j->obs[i];
			fn->saved_s = clock__now_s() - j->t_obs_start;
			fn->saved_mode = watch__fn_mode(fn);
			fn->have_saved = true;
		}
	}
	w->dirty = true;
	judgement_free(j);
}

static void revert(struct watch *w, struct watch_judgement *j, enum verdict v, const char *reason)
{
	const char *step;
	int ret = klp_control__revert(KLP_SYSFS_ROOT_DEFAULT, j->patch, j->def.revert_timeout_s, &step);
	char why[256];

	if (!ret || !strcmp(step, "unload")) {
		w->reverts++;
		if (ret)
			lps_warn("%s: reverted, but the module stays loaded: %s", j->patch, strerror(-ret));
		finish(w, j, v, "reverted", reason, true);
		return;
	}
	w->revert_failures++;
	snprintf(why, sizeof(why), "%s; revert failed at %s: %s (see lpsentinel status)", reason, step,
		 strerror(-ret));
	finish(w, j, v, "failed", why, false);
}

/* The transition stalled: name the blockers in the detail, as gate does. */
static void describe_stall(struct watch_judgement *j, const struct klp_patch_entry *p, double s)
{
	struct klp_transition_info ti = { 0 };
	size_t off;

	snprintf(j->transition_detail, sizeof(j->transition_detail), "transition stalled for %.0fs", s);
	if (klp_transition_info__read(p, &ti))
		return;
	off = strlen(j->transition_detail);
	for (size_t i = 0; i < ti.nblockers && off < sizeof(j->transition_detail); i++)
		off += (size_t)snprintf(j->transition_detail + off, sizeof(j->transition_detail) - off,
					"%s pid %d (%s)", i ? "," : "; blocked by", ti.blockers[i].pid,
					ti.blockers[i].comm);
	klp_transition_info__free(&ti);
}

static enum verdict judge_window(struct watch *w, struct watch_judgement *j, double share)
{
	struct sys_window sb = { 0 }, so = { 0 };
	struct lps_func_signals sys_obs;
	struct lps_hist runq_obs;
	enum verdict worst = VERDICT_PASS;

	for (size_t i = 0; i < j->n; i++) {
		struct watch_fn *fn = &w->fns[j->fn[i]];
		struct func_window b = { .hist = &j->base[i], .none = j->base_none[i] },
				   o = { .hist = &j->obs[i] };
		enum attach_mode now = watch__fn_mode(fn);

		/*
		 * fentry and kprobes add different costs to every call: a baseline of
		 * one and an observation of the other differ by that alone (a restart
		 * with the patch live traces it with kprobes).
		 */
		if (j->base_mode[i] != ATTACH_AUTO && now != ATTACH_AUTO && j->base_mode[i] != now)
			b.incomparable = now == ATTACH_KPROBE ?
				"baseline measured with fentry probes, the patched code with kprobes: "
				"latencies not comparable" :
				"baseline measured with kprobes, the patched code with fentry probes: "
				"latencies not comparable";

		/* By name, not pointer: w->fns moves when functions are added. */
		j->names[3 * i] = fn->name;
		hist_delta(&j->obs[i], &fn->cum, &j->start[i]);
		if (j->sbase_ok[i]) {
			signals__sub(&j->sobs[i], &fn->scum, &j->sstart[i]);
			b.sig = &j->sbase[i];
			o.sig = &j->sobs[i];
		}
		o.faults = kfault_log__count_naming(&j->faults, &j->names[3 * i], &o.fault_line);
		judge__function(&b, &o, &j->fr[i], j->fr[i].alpha * share, &j->j[i]);
		if (j->j[i].verdict > worst)
			worst = j->j[i].verdict;
	}
	if (j->sys_ok) {
		signals__sub(&sys_obs, &w->sys.cum, &j->sys_start);
		hist_delta(&runq_obs, &w->sys.runq_cum, &j->runq_start);
		sb.seconds = j->sys_base_s;
		sb.sig = &j->sys_base;
		sb.runq = &j->runq_base;
		so.seconds = clock__now_s() - j->t_obs_start;
		so.sig = &sys_obs;
		so.runq = &runq_obs;
	}
	so.faults = j->faults.n;
	so.fault_line = j->faults.n ? j->faults.v[0].line : NULL;
	so.log_unreadable = w->kmsg_fd < 0 || w->log_err;
	judge__system(&sb, &so, &j->def, j->def.alpha * share, &j->sysj);
	return j->sysj.verdict > worst ? j->sysj.verdict : worst;
}

/* One judgement's step; true when it finished (and was freed). */
static bool step(struct watch *w, struct watch_judgement *j)
{
	struct klp_patch_entry p;
	double now = clock__now_s(), t, share;
	enum verdict v;

	if (klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, j->patch, &p)) {
		finish(w, j, VERDICT_INCONCLUSIVE, "gone", "the patch went away before it was judged",
		       false);
		return true;
	}
	if (j->phase == PHASE_TRANSITION) {
		if (p.enabled == 1 && p.transition == 0) {
			for (size_t i = 0; i < j->n; i++) {
				j->start[i] = w->fns[j->fn[i]].cum;
				j->sstart[i] = w->fns[j->fn[i]].scum;
			}
			j->sys_start = w->sys.cum;
			j->runq_start = w->sys.runq_cum;
			j->t_obs_start = now;
			j->phase = PHASE_OBSERVING;
			snprintf(j->transition_detail, sizeof(j->transition_detail),
				 "patching transition completed in %.1fs", now - j->t_appeared);
			if (watch__patch(w, j->patch))
				watch__patch(w, j->patch)->state = "observing";
		} else if (p.enabled == 1 && now - j->t_appeared > j->def.transition_timeout_s) {
			describe_stall(j, &p, now - j->t_appeared);
			klp_patch_entry__free(&p);
			revert(w, j, VERDICT_FAIL, "the patch transition stalled");
			return true;
		}
		klp_patch_entry__free(&p);
		return false;
	}
	klp_patch_entry__free(&p);
	t = fmin(1, (now - j->t_obs_start) / j->def.observe_s);
	share = judge__alpha_for_look(1.0, j->t_prev, t);
	j->t_prev = t;
	j->looks++;
	v = judge_window(w, j, share);
	if (v == VERDICT_FAIL) {
		revert(w, j, v, t < 1 ? "regression found before the end of the window" : "regression");
		return true;
	}
	if (t < 1)
		return false;
	if (v == VERDICT_INCONCLUSIVE && j->def.inconclusive_revert)
		revert(w, j, v, "inconclusive, and the rules say revert");
	else
		finish(w, j, v, "kept", v == VERDICT_INCONCLUSIVE ?
		       "inconclusive, and the rules say keep" : "no regression", false);
	return true;
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
