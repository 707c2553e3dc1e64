// SPDX-License-Identifier: GPL-2.0
/* overhead's figures for people and programs: windows, differences, costs per call and per CPU. */
#include <math.h>
#include <stdio.h>
#include <json-c/json.h>
#include "cli.h"
#include "hist.h"
#include "overhead.h"
#include "report.h"

void overhead__window_of(struct window *w, const struct lps_hist *h, double secs)
{
	w->calls = h->calls;
	w->recorded = hist_recorded(h);
	w->secs = secs;
	w->mean_ns = hist_mean(h);
	w->var_ns2 = hist_variance(h);
	w->p50_ns = hist_percentile(h, 0.5);
}

struct diff overhead__diff_of(const struct window *b, const struct window *a)
{
	struct diff d = { 0 };

	if (b->recorded < 2 || a->recorded < 2)
		return d;
	d.known = true;
	d.ns = a->mean_ns - b->mean_ns;
	d.ci95 = 1.96 * sqrt(b->var_ns2 / (double)b->recorded + a->var_ns2 / (double)a->recorded);
	return d;
}

static struct json_object *window_json(const struct window *w)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "seconds", json_object_new_double(w->secs));
	json_object_object_add(o, "calls", json_object_new_uint64(w->calls));
	json_object_object_add(o, "calls_per_s", json_object_new_double(w->secs > 0 ?
			       (double)w->calls / w->secs : 0));
	json_object_object_add(o, "mean_ns", w->recorded ? json_object_new_double(w->mean_ns) : NULL);
	json_object_object_add(o, "p50_ns", w->recorded ? json_object_new_double(w->p50_ns) : NULL);
	return o;
}

static void add_diff(struct json_object *o, const char *name, const struct diff *d)
{
	char key[64];

	json_object_object_add(o, name, d->known ? json_object_new_double(d->ns) : NULL);
	snprintf(key, sizeof(key), "%s_ci95", name);
	json_object_object_add(o, key, d->known ? json_object_new_double(d->ci95) : NULL);
}

/* What one function's figures are, from its windows and the calibration. */
struct func_cost {
	double calls_per_s;
	/*
	 * added: as the probes see it; code: less what they saw change for the
	 * identical patch; per_call: code plus the redirection, as callers see it.
	 * cpu: share of one CPU (1.0 = a whole CPU).
	 */
	struct diff added, code, per_call, cpu;
};

static struct diff diff_sum(const struct diff *x, const struct diff *y, double sign)
{
	struct diff d = { .known = x->known && y->known };

	d.ns = x->ns + sign * y->ns;
	d.ci95 = sqrt(x->ci95 * x->ci95 + y->ci95 * y->ci95);
	return d;
}

static struct func_cost cost_of(const struct window *b, const struct window *a,
				const struct calibration *cal)
{
	struct func_cost c = { 0 };
	const struct diff *r = cal ? &cal->redirection : NULL;

	c.calls_per_s = a->secs > 0 ? (double)a->calls / a->secs : 0;
	if (b)
		c.added = overhead__diff_of(b, a);
	if (c.added.known && r) {
		c.code = diff_sum(&c.added, &cal->probe_visible, -1);
		c.per_call = diff_sum(&c.code, r, 1);
	}
	/* Without a before (a patch loaded already), the redirection alone. */
	if (c.added.known || r) {
		const struct diff *src = c.per_call.known ? &c.per_call : c.added.known ? &c.added : r;

		c.cpu.known = true;
		c.cpu.ns = c.calls_per_s * src->ns / 1e9;
		c.cpu.ci95 = c.calls_per_s * src->ci95 / 1e9;
	}
	return c;
}

/* moved[i]: function i's probe changed method between the windows (not compared). */
void overhead__print_json(const struct overhead_args *a, const char *patch, bool had_before,
		       const bool *moved, const struct probe_set *ps, const struct window *before,
		       const struct window *after, const struct calibration *cal,
		       const struct self_cost *sc, const struct lps_hist *h, const char *action)
{
	struct json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	double total = 0, total_ci2 = 0;
	bool total_known = true;

	json_object_object_add(doc, "patch", json_object_new_string(patch));
	json_object_object_add(doc, "window_s", json_object_new_double(a->window_s));
	if (cal) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "patch", json_object_new_string(cal->patch));
		json_object_object_add(c, "function", json_object_new_string(cal->function));
		json_object_object_add(c, "before", window_json(&cal->before));
		json_object_object_add(c, "after", window_json(&cal->after));
		add_diff(c, "redirection_ns", &cal->redirection);
		add_diff(c, "probe_visible_ns", &cal->probe_visible);
		json_object_object_add(c, "timed_reads", json_object_new_double(
			cal->reads_before + cal->reads_after));
		json_object_object_add(doc, "calibration", c);
	} else {
		json_object_object_add(doc, "calibration", NULL);
	}
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		const struct probe_info *info = probe_set__info(ps, i);
		struct func_cost c = cost_of(had_before && !moved[i] ? &before[i] : NULL, &after[i], cal);
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "function", json_object_new_string(info->name));
		json_object_object_add(f, "attach", json_object_new_string(attach_mode__name(info->mode)));
		json_object_object_add(f, "compared", json_object_new_boolean(had_before && !moved[i]));
		json_object_object_add(f, "calls_per_s", json_object_new_double(c.calls_per_s));
		json_object_object_add(f, "before", had_before ? window_json(&before[i]) : NULL);
		json_object_object_add(f, "after", window_json(&after[i]));
		add_diff(f, "added_ns", &c.added);
		json_object_object_add(f, "redirection_ns", cal ?
				       json_object_new_double(cal->redirection.ns) : NULL);
		add_diff(f, "code_ns", &c.code);
		add_diff(f, "per_call_ns", &c.per_call);
		add_diff(f, "cpu_share", &c.cpu);
		self_cost__add_function(f, sc, ps, i, &h[i]);
		json_object_array_add(arr, f);
		total_known &= c.cpu.known;
		total += c.cpu.ns;
		total_ci2 += c.cpu.ci95 * c.cpu.ci95;
	}
	json_object_object_add(doc, "functions", arr);
	json_object_object_add(doc, "cpu_share", total_known ? json_object_new_double(total) : NULL);
	json_object_object_add(doc, "cpu_share_ci95", total_known ?
			       json_object_new_double(sqrt(total_ci2)) : NULL);
	json_object_object_add(doc, "cpu_share_of", json_object_new_string(had_before ?
			       "the whole patch" : cal ? "the redirection alone" : "unknown"));
	json_object_object_add(doc, "action", json_object_new_string(action));
	json_object_object_add(doc, "self_cost", self_cost__json(sc, ps, NULL, h));
	cli__print_json(doc);
	json_object_put(doc);
}

static void fmt_diff(char *buf, size_t len, const struct diff *d)
{
	char v[32], e[32];

	if (!d->known) {
		snprintf(buf, len, "unknown");
		return;
	}
	fmt_ns(v, sizeof(v), fabs(d->ns));
	fmt_ns(e, sizeof(e), d->ci95);
	snprintf(buf, len, "%s%s ± %s", d->ns < 0 ? "-" : "+", v, e);
}

void overhead__print_text(const char *patch, bool had_before, const bool *moved,
		       const struct probe_set *ps,
		       const struct window *before, const struct window *after,
		       const struct calibration *cal, const struct self_cost *sc,
		       const struct lps_hist *h, const char *action)
{
	char x[96], y[96];

	printf("overhead of %s (%s)\n", patch, action);
	if (cal) {
		fmt_diff(x, sizeof(x), &cal->redirection);
		fmt_diff(y, sizeof(y), &cal->probe_visible);
		printf("redirection (calibrated with %s on %s, timed by its caller): %s per call "
		       "(95%%); the probes saw %s of it\n", cal->patch, cal->function, x, y);
	}
	for (size_t i = 0; i < probe_set__count(ps); i++) {
		struct func_cost c = cost_of(had_before && !moved[i] ? &before[i] : NULL, &after[i], cal);

		printf("  %s: %.0f calls/s", probe_set__info(ps, i)->name, c.calls_per_s);
		if (had_before && moved[i]) {
			printf(", not compared (its probe changed method between the windows)");
		} else if (had_before) {
			fmt_diff(x, sizeof(x), &c.added);
			printf(", added %s per call", x);
			if (c.per_call.known) {
				fmt_diff(y, sizeof(y), &c.code);
				printf(" (new code %s", y);
				fmt_diff(y, sizeof(y), &c.per_call);
				printf("; with the redirection %s)", y);
			}
		} else {
			printf(", no measurement before the patch (it was loaded already)");
		}
		if (c.cpu.known)
			printf(", %s%.4f%% ± %.4f%% of a CPU%s", c.cpu.ns < 0 ? "" : "+", c.cpu.ns * 100,
			       c.cpu.ci95 * 100, c.added.known ? "" : " for the redirection");
		putchar('\n');
	}
	self_cost__text(stdout, sc, ps, NULL, h);
	printf("(same probes before and after: their own cost cancels in the differences. "
	       "± is a 95%% interval from the windows' spread; drift of the machine between the "
	       "windows is not in it, which is why the calibration alternates %d rounds)\n",
	       CALIBRATION_ROUNDS);
}
