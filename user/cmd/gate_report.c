// SPDX-License-Identifier: GPL-2.0
/* What gate prints: the docs/verbs.md JSON document, or text with histograms side by side. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "clock.h"
#include "gate.h"
#include "identity.h"
#include "klp_report.h"
#include "log.h"
#include "report_html.h"
#include "report.h"
#include "signals_report.h"
#include "verdict_report.h"

#define TOP_CALLERS 5

#define ALL_FUNCS (-1)

/* The observe window's top lock callers (by wait) for function f, or ALL_FUNCS. */
static size_t top_callers(const struct gate *g, long f, const struct lock_caller_entry **top)
{
	size_t n = 0;

	for (size_t i = 0; i < g->sobs.ncallers; i++) {
		const struct lock_caller_entry *c = &g->sobs.callers[i];
		size_t k;

		if (f != ALL_FUNCS && c->func != (__u32)f)
			continue;
		/* Insertion into a short sorted list: at most TOP_CALLERS kept. */
		for (k = n; k > 0 && top[k - 1]->v.wait_ns < c->v.wait_ns; k--)
			if (k < TOP_CALLERS)
				top[k] = top[k - 1];
		if (k < TOP_CALLERS) {
			top[k] = c;
			if (n < TOP_CALLERS)
				n++;
		}
	}
	return n;
}

static struct json_object *callers_json(const struct gate *g, long f)
{
	const struct lock_caller_entry *top[TOP_CALLERS];
	struct json_object *arr = json_object_new_array();
	size_t n = top_callers(g, f, top);

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		bool in_patch;
		const char *who = signals__caller_name(g->sig, top[i], g->all_names, &in_patch);

		json_object_object_add(o, "caller", json_object_new_string(who));
		json_object_object_add(o, "function", top[i]->func < g->n ?
				       json_object_new_string(g->names[3 * top[i]->func]) : NULL);
		json_object_object_add(o, "count", json_object_new_uint64(top[i]->v.count));
		json_object_object_add(o, "wait_ns", json_object_new_uint64(top[i]->v.wait_ns));
		/* the contending stack runs through the patched function or its replacement */
		json_object_object_add(o, "in_patched_code", json_object_new_boolean(in_patch));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void callers_text(const struct gate *g, long f, const char *indent)
{
	const struct lock_caller_entry *top[TOP_CALLERS];
	size_t n = top_callers(g, f, top);

	for (size_t i = 0; i < n; i++) {
		char wait[32];
		bool in_patch;

		fmt_ns(wait, sizeof(wait), (double)top[i]->v.wait_ns);
		printf("%slock caller %s: %llu contentions, %s waited\n", indent,
		       signals__caller_name(g->sig, top[i], NULL, &in_patch),
		       (unsigned long long)top[i]->v.count, wait);
	}
}

/* The targets not measured, with the reason: [{object, function, reason}]. */
static struct json_object *not_measured_json(const struct gate *g)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; g->res && i < g->mod.n; i++) {
		struct json_object *o;

		if (g->res[i].state != TARGET_NOT_MEASURED)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "object", json_object_new_string(g->mod.targets[i].object));
		json_object_object_add(o, "function",
				       json_object_new_string(g->mod.targets[i].function));
		json_object_object_add(o, "reason", json_object_new_string(g->res[i].why));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Under a budget: seconds function i was attached in the observe window, up to the last look. */
static double observed_attached_s(const struct gate *g, size_t i)
{
	return g->sampled[i].idle.last_s - g->sampled[i].obs_start;
}

/*
 * Under --cpu-budget: what the budget did (budget_set__json) and the seconds
 * each window was attached, which are what the judge's rates rest on.
 */
static struct json_object *sampling_json(const struct gate *g, size_t i,
					 const struct lps_hist *total)
{
	struct json_object *o = budget_set__json(g->bs, i, total ? total[i].calls : 0,
						 clock__now_s());

	json_object_object_add(o, "baseline_attached_s",
			       json_object_new_double(g->sampled[i].base_s));
	json_object_object_add(o, "observed_attached_s",
			       json_object_new_double(observed_attached_s(g, i)));
	return o;
}

/* What the patch holds that no probe looks at: unmeasured functions, objects without any. */
static void unmeasured_text(const struct gate *g)
{
	for (size_t i = 0; g->res && i < g->mod.n; i++)
		if (g->res[i].state == TARGET_NOT_MEASURED)
			printf("  not measured: %s %s: %s\n", g->mod.targets[i].object,
			       g->mod.targets[i].function, g->res[i].why);
	for (size_t i = 0; i < g->mod.nobjects; i++)
		if (!g->mod.objects[i].nfuncs)
			printf("  object %s: no functions (callbacks or state only)\n",
			       g->mod.objects[i].name);
}

/* --html: the document just built, through the same reader and page as lpsentinel report. */
static int write_html(const struct gate *g, struct json_object *doc)
{
	char why[768], title[200];

	snprintf(title, sizeof(title), "lpsentinel gate %s: %s", g->mod.patch, g->action);
	if (!report_html__from_doc(g->a.html, title, doc, why, sizeof(why)))
		return 0;
	lps_err("--html %s: %s", g->a.html, why);
	return -EIO;
}

int gate__print(const struct gate *g)
{
	int ret = 0;
	struct check_result sys = { .check = "transition", .p = 1,
				    .result = g->life.was_stalled ? VERDICT_FAIL : VERDICT_PASS };
	/* Calls to this moment, as the BPF run counts are read: the own cost per call. */
	struct lps_hist *total = calloc(g->n ? g->n : 1, sizeof(*total));

	if (total && probe_set__read(g->ps, total)) {
		free(total);
		total = NULL;
	}

	snprintf(sys.detail, sizeof(sys.detail), "%s", g->life.detail[0] ? g->life.detail :
		 "not reached");
	if (g->a.json || g->a.html) {
		struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
				   *system = json_object_new_object(), *sys_checks;

		struct lps_identity id;

		identity__here(&id, g->mod.patch, g->mod.build_id);
		json_object_object_add(doc, "patch", json_object_new_string(g->mod.patch));
		/* What `pool` checks before it pools verdicts of many hosts. */
		json_object_object_add(doc, "identity", identity__json(&id));
		json_object_object_add(doc, "verdict", json_object_new_string(verdict__name(g->verdict)));
		json_object_object_add(doc, "action", json_object_new_string(g->action));
		json_object_object_add(doc, "reason", json_object_new_string(g->reason));
		/* The module parameters it was loaded with ("" for none): part of what was judged. */
		json_object_object_add(doc, "params", json_object_new_string(g->a.params));
		if (g->life.overrun[0])	/* the revert ran past its bound: the kernel held a call */
			json_object_object_add(doc, "revert_overrun",
					       json_object_new_string(g->life.overrun));
		if (g->revert_why[0])
			json_object_object_add(doc, "revert_error",
					       json_object_new_string(g->revert_why));
		json_object_object_add(doc, "inconclusive_policy",
				       json_object_new_string(g->def.inconclusive_revert ? "revert" : "keep"));
		json_object_object_add(doc, "looks", json_object_new_int(g->looks));
		/* --cpu-budget; budgets from the rules are per function, in "sampling" */
		json_object_object_add(doc, "cpu_budget_pct", g->bs && g->a.cpu_budget ?
				       json_object_new_double(g->a.cpu_budget) : NULL);
		json_object_object_add(doc, "measured_functions", json_object_new_uint64(g->n));
		json_object_object_add(doc, "not_measured", not_measured_json(g));
		for (size_t i = 0; i < g->n; i++) {
			const struct probe_info *pi = probe_set__info(g->ps, i);
			struct json_object *f = json_object_new_object(), *checks;

			json_object_object_add(f, "function", json_object_new_string(pi->name));
			json_object_object_add(f, "object",
					       json_object_new_string(pi->module ? pi->module : "vmlinux"));
			json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(pi->mode)));
			if (probe_info__traced_as(pi))
				json_object_object_add(f, "traced_as", json_object_new_string(pi->probe));
			json_object_object_add(f, "verdict", json_object_new_string(verdict__name(g->j[i].verdict)));
			json_object_object_add(f, "baseline", report__stats_json(&g->base[i]));
			json_object_object_add(f, "observed", report__stats_json(&g->obs[i]));
			checks = verdict_report__checks_json(g->j[i].checks, g->j[i].n);
			verdict_report__add_thresholds(checks, &g->fr[i], g->fr[i].alpha * g->tl.share,
						       false);
			json_object_object_add(f, "checks", checks);
			if (g->bs)
				json_object_object_add(f, "sampling", sampling_json(g, i, total));
			if (total)
				self_cost__add_function(f, &g->sc, g->ps, i, &total[i]);
			if (g->sig && g->sobs.funcs) {
				json_object_object_add(f, "baseline_signals", signals_report__json(&g->sbase.funcs[i]));
				json_object_object_add(f, "observed_signals", signals_report__json(&g->sobs.funcs[i]));
				json_object_object_add(f, "lock_callers", callers_json(g, (long)i));
			}
			json_object_array_add(fns, f);
		}
		json_object_object_add(doc, "functions", fns);
		sys_checks = verdict_report__system_checks_json(&sys, &g->sysj);
		verdict_report__add_thresholds(sys_checks, &g->def, g->def.alpha * g->tl.share, true);
		json_object_object_add(system, "checks", sys_checks);
		json_object_object_add(system, "signals", json_object_new_string(
			g->sig ? signals__lock_mode(g->sig) : g->sig_why));
		json_object_object_add(system, "kernel_faults", verdict_report__faults_json(&g->faults));
		if (g->sig && g->sobs.funcs) {
			json_object_object_add(system, "baseline_signals", signals_report__json(&g->sbase.sys));
			json_object_object_add(system, "observed_signals", signals_report__json(&g->sobs.sys));
			json_object_object_add(system, "lock_callers", callers_json(g, ALL_FUNCS));
			json_object_object_add(system, "runqueue_baseline", report__stats_json(&g->sbase.runq));
			json_object_object_add(system, "runqueue_observed", report__stats_json(&g->sobs.runq));
			json_object_object_add(system, "signal_drops", json_object_new_uint64(
				g->sobs.drops[LPS_SDROP_NO_STORAGE] + g->sobs.drops[LPS_SDROP_CALLERS_FULL] +
				g->sobs.drops[LPS_SDROP_NO_STACK]));
			json_object_object_add(system, "stale_frames", json_object_new_uint64(
				g->s2.drops[LPS_SDROP_STALE_FRAMES] + g->sobs.drops[LPS_SDROP_STALE_FRAMES]));
		}
		if (g->life.have_stall)	/* the patch as it stood, with blockers and their stacks */
			json_object_object_add(system, "stalled_transition",
					       klp_report__patch_json(&g->life.stalled, &g->life.stall));
		json_object_object_add(doc, "system", system);
		if (total)
			json_object_object_add(doc, "self_cost", self_cost__json(&g->sc, g->ps, g->sig, total));
		/* When the patch was loaded, its transition, every look, the revert: for people. */
		json_object_object_add(doc, "timeline", timeline__json(&g->tl));
		if (g->a.html)
			ret = write_html(g, doc);
		if (g->a.json)
			cli__print_json(doc);
		json_object_put(doc);
		if (g->a.json) {
			free(total);
			return ret;
		}
	}
	printf("gate %s: %s, %s (%s)\n", g->mod.patch, verdict__name(g->verdict), g->action, g->reason);
	if (g->a.params[0])
		printf("  module parameters: %s\n", g->a.params);
	printf("  transition: %s\n", sys.detail);
	unmeasured_text(g);
	for (size_t k = 0; k < g->sysj.n; k++)
		verdict_report__check_text(stdout, "  ", g->sysj.checks[k].check,
					   verdict__name(g->sysj.checks[k].result),
					   g->sysj.checks[k].detail, g->sysj.checks[k].coverage);
	for (size_t k = 0; k < g->faults.n; k++)
		printf("  kernel log: %s\n", g->faults.v[k].line);
	if (g->sig && g->sobs.funcs)
		callers_text(g, ALL_FUNCS, "  ");
	if (g->life.have_stall)
		klp_report__blockers_text(stdout, &g->life.stall);
	for (size_t i = 0; i < g->n; i++) {
		const struct probe_info *pi = probe_set__info(g->ps, i);
		const char *alias = probe_info__traced_as(pi);
		char b50[32], o50[32], b99[32], o99[32];

		fmt_ns(b50, sizeof(b50), hist_percentile(&g->base[i], 0.5));
		fmt_ns(o50, sizeof(o50), hist_percentile(&g->obs[i], 0.5));
		fmt_ns(b99, sizeof(b99), hist_percentile(&g->base[i], 0.99));
		fmt_ns(o99, sizeof(o99), hist_percentile(&g->obs[i], 0.99));
		printf("  %s%s%s%s: %s   before: %llu calls p50 %s p99 %s   after: %llu calls p50 %s "
		       "p99 %s\n", pi->name, alias ? " (traced as " : "", alias ? alias : "",
		       alias ? ")" : "",
		       verdict__name(g->j[i].verdict),
		       (unsigned long long)g->base[i].calls, b50, b99,
		       (unsigned long long)g->obs[i].calls, o50, o99);
		if (!g->j[i].n)
			printf("    not judged: the observe window never began\n");
		if (g->bs) {
			char line[240];

			budget_set__text(g->bs, i, total ? total[i].calls : 0, clock__now_s(), line,
					 sizeof(line));
			printf("    %s; judged on %.2fs attached before, %.2fs after\n", line,
			       g->sampled[i].base_s, observed_attached_s(g, i));
		}
		for (size_t k = 0; k < g->j[i].n; k++)
			verdict_report__check_text(stdout, "    ", g->j[i].checks[k].check,
						   verdict__name(g->j[i].checks[k].result),
						   g->j[i].checks[k].detail, g->j[i].checks[k].coverage);
		if (g->sig && g->sobs.funcs)
			callers_text(g, (long)i, "    ");
	}
	printf("before:\n");
	for (size_t i = 0; i < g->n; i++)
		report__function_text(stdout, probe_set__info(g->ps, i), &g->base[i]);
	printf("after:\n");
	for (size_t i = 0; i < g->n; i++)
		report__function_text(stdout, probe_set__info(g->ps, i), &g->obs[i]);
	if (total)
		self_cost__text(stdout, &g->sc, g->ps, g->sig, total);
	free(total);
	return ret;
}

