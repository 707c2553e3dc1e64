// SPDX-License-Identifier: GPL-2.0
/*
 * A watch judgement's verdict as the audit trail, syslog and a handing gate
 * read it: the decision, each function's windows and checks (and what a CPU
 * budget sampled), the system's checks and signals.
 */
#include <stdio.h>
#include "hist.h"
#include "identity.h"
#include "report.h"
#include "signals_report.h"
#include "verdict_report.h"
#include "watch.h"
#include "clock.h"

/* Why a function waiting for its module was not measured. */
void watch_verdict__waiting_why(const struct watch_fn *fn, char *out, size_t len)
{
	snprintf(out, len, "module %s was not loaded; traced when it loads, already patched then, "
		 "so with no baseline of the code it replaced", fn->module);
}

struct json_object *watch_verdict__json(const struct watch *w, const struct watch_judgement *j,
				       enum verdict v, const char *action, const char *reason,
				       bool operational)
{
	struct json_object *doc = audit__decision("verdict", w->kernel, j->patch, verdict__name(v),
						  action, reason, operational),
			   *fns = json_object_new_array(), *sys = json_object_new_object(), *checks;
	struct check_result tr = { .check = "transition", .p = 1 };
	struct lps_identity id;

	identity__here(&id, j->patch, j->build_id);
	/* What `pool` checks before it pools verdicts of many hosts. */
	json_object_object_add(doc, "identity", identity__json(&id));
	json_object_object_add(doc, "inconclusive_policy",
			       json_object_new_string(j->def.inconclusive_revert ? "revert" : "keep"));
	json_object_object_add(doc, "looks", json_object_new_int(j->looks));
	if (j->nunprobed) {
		struct json_object *un = json_object_new_array();

		for (size_t i = 0; i < j->nunprobed; i++) {
			struct json_object *u = json_object_new_object();

			json_object_object_add(u, "function", json_object_new_string(j->unprobed[i]));
			json_object_object_add(u, "error", json_object_new_string(j->unprobed_why));
			json_object_array_add(un, u);
		}
		json_object_object_add(doc, "unprobed", un);
	}
	if (j->nwaiting) {
		struct json_object *nm = json_object_new_array();

		for (size_t i = 0; i < j->nwaiting; i++) {
			const struct watch_fn *fn = &w->fns[j->waiting[i]];
			struct json_object *u = json_object_new_object();
			char why[200];

			json_object_object_add(u, "function", json_object_new_string(fn->name));
			json_object_object_add(u, "object", json_object_new_string(fn->module));
			watch_verdict__waiting_why(fn, why, sizeof(why));
			json_object_object_add(u, "reason", json_object_new_string(why));
			json_object_array_add(nm, u);
		}
		json_object_object_add(doc, "not_measured", nm);
	}
	for (size_t i = 0; i < j->n; i++) {
		const struct watch_fn *fn = &w->fns[j->fn[i]];
		const struct budget_set *bs;
		struct json_object *f = json_object_new_object(), *fchecks;

		json_object_object_add(f, "function", json_object_new_string(fn->name));
		json_object_object_add(f, "object", json_object_new_string(fn->module[0] ? fn->module :
										   "vmlinux"));
		/* None: its module went while the patch was observed (watch_modules.c). */
		json_object_object_add(f, "attach", json_object_new_string(
			fn->grp ? attach_mode__name(watch__fn_mode(fn)) : "none"));
		if (watch__fn_traced_as(fn))
			json_object_object_add(f, "traced_as",
					       json_object_new_string(watch__fn_traced_as(fn)));
		json_object_object_add(f, "verdict", json_object_new_string(verdict__name(j->j[i].verdict)));
		json_object_object_add(f, "baseline", j->base_none[i] ? NULL : report__stats_json(&j->base[i]));
		json_object_object_add(f, "baseline_s", json_object_new_double(j->base_s[i]));
		json_object_object_add(f, "observed", report__stats_json(&j->obs[i]));
		/* Under a budget: what it did, and the seconds attached each window holds. */
		bs = watch__fn_budget_set(fn);
		if (bs) {
			struct json_object *sm = budget_set__json(bs, fn->idx,
								  fn->cum.calls - fn->carry.calls,
								  clock__now_s());

			json_object_object_add(sm, "baseline_attached_s",
					       json_object_new_double(j->base_s[i]));
			json_object_object_add(sm, "observed_attached_s", json_object_new_double(
				j->t_obs_start > 0 ? fn->seen_s - j->seen_start[i] : 0));
			json_object_object_add(f, "sampling", sm);
		}
		fchecks = verdict_report__checks_json(j->j[i].checks, j->j[i].n);
		verdict_report__add_thresholds(fchecks, &j->fr[i], j->fr[i].alpha * j->tl.share, false);
		json_object_object_add(f, "checks", fchecks);
		if (j->sbase_ok[i]) {
			json_object_object_add(f, "baseline_signals", signals_report__json(&j->sbase[i]));
			json_object_object_add(f, "observed_signals", signals_report__json(&j->sobs[i]));
		}
		json_object_array_add(fns, f);
	}
	json_object_object_add(doc, "functions", fns);
	tr.result = j->life.was_stalled ? VERDICT_FAIL : VERDICT_PASS;
	snprintf(tr.detail, sizeof(tr.detail), "%s", j->life.detail[0] ? j->life.detail :
		 "patching transition completed");
	checks = verdict_report__system_checks_json(&tr, &j->sysj);
	verdict_report__add_thresholds(checks, &j->def, j->def.alpha * j->tl.share, true);
	json_object_object_add(sys, "checks", checks);
	json_object_object_add(sys, "kernel_faults", verdict_report__faults_json(&j->faults));
	json_object_object_add(sys, "signals", json_object_new_string(
		w->sys.sig ? signals__lock_mode(w->sys.sig) : w->sys.why));
	if (j->sys_ok && j->t_obs_start > 0) {
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
	/* From its appearance: the transition, every look, the revert (as far as it has come). */
	json_object_object_add(doc, "timeline", timeline__json(&j->tl));
	return doc;
}

