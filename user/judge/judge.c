// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "hist.h"
#include "judge.h"
#include "stats.h"

/* Confidence of the quantile bounds used for the practical effect. */
#define QUANTILE_CONF 0.99

const char *verdict__name(enum verdict v)
{
	return v == VERDICT_FAIL ? "fail" : v == VERDICT_INCONCLUSIVE ? "inconclusive" : "pass";
}

double judge__alpha_for_look(double alpha, double t_prev, double t_now)
{
	t_prev = fmin(fmax(t_prev, 0), 1);
	t_now = fmin(fmax(t_now, 0), 1);
	return alpha * (t_now * t_now - t_prev * t_prev);
}

/*
 * Distribution check shared by function latency and run-queue latency:
 * Mann-Whitney for significance, 99 % quantile bounds for a practical effect.
 */
static void check_distribution(const struct lps_hist *b, const struct lps_hist *o, __u64 min_n,
			       double ratio, double min_delta_ns, double alpha, struct check_result *c)
{
	static const double qs[] = { 0.5, 0.9 };
	__u64 nb = hist_recorded(b), no = hist_recorded(o);
	struct mwu_result m;
	char before[32], after[32];

	if (nb < min_n || no < min_n) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "too few timed calls: %llu before, %llu after "
			 "(need %llu each)", (unsigned long long)nb, (unsigned long long)no,
			 (unsigned long long)min_n);
		return;
	}
	if (stats__mann_whitney(b->buckets, o->buckets, HIST_BUCKETS, &m)) {
		snprintf(c->detail, sizeof(c->detail), "identical distributions");
		return;
	}
	c->p = m.p_greater;
	fmt_ns(before, sizeof(before), hist_percentile(b, 0.5));
	fmt_ns(after, sizeof(after), hist_percentile(o, 0.5));
	snprintf(c->detail, sizeof(c->detail), "p50 %s -> %s, Mann-Whitney p=%.3g (alpha %.3g), "
		 "P(after > before)=%.2f", before, after, m.p_greater, alpha, m.effect);
	if (m.p_greater >= alpha)
		return;
	/* Significant: is it big enough to matter? Conservative bounds both ways. */
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double blo, bhi, olo, ohi;

		if (stats__quantile_bounds(b, qs[i], QUANTILE_CONF, &blo, &bhi) ||
		    stats__quantile_bounds(o, qs[i], QUANTILE_CONF, &olo, &ohi))
			continue;
		if (olo >= ratio * bhi && olo - bhi >= min_delta_ns) {
			fmt_ns(before, sizeof(before), bhi);
			fmt_ns(after, sizeof(after), olo);
			c->result = VERDICT_FAIL;
			snprintf(c->detail, sizeof(c->detail), "p%.0f at least %s after vs at most %s "
				 "before (x%.1f >= x%.2f, +%.0fns >= %.0fns), Mann-Whitney p=%.3g",
				 qs[i] * 100, after, before, olo / bhi, ratio, olo - bhi, min_delta_ns,
				 m.p_greater);
			return;
		}
	}
	strncat(c->detail, "; slower, but below the practical threshold",
		sizeof(c->detail) - strlen(c->detail) - 1);
}

/*
 * Events per unit of exposure (calls, or milliseconds), before and after:
 * conditional binomial test, a minimum count after and a minimum growth of
 * the rate. The detail says what was counted.
 */
static void check_rate(const char *what, __u64 e1, __u64 n1, __u64 e2, __u64 n2, __u64 min_events,
		       double rate_increase, double alpha, struct check_result *c)
{
	double rb = n1 ? (double)e1 / (double)n1 : 0, ro = n2 ? (double)e2 / (double)n2 : 0;

	c->p = stats__error_rate_p(e1, n1, e2, n2);
	snprintf(c->detail, sizeof(c->detail), "%s %llu/%llu calls (%.3g per call) -> %llu/%llu "
		 "(%.3g per call), binomial p=%.3g (alpha %.3g)", what, (unsigned long long)e1,
		 (unsigned long long)n1, rb, (unsigned long long)e2, (unsigned long long)n2, ro, c->p,
		 alpha);
	if (e2 >= min_events && ro - rb >= rate_increase && c->p < alpha)
		c->result = VERDICT_FAIL;
}

static bool too_few_calls(const struct lps_hist *b, const struct lps_hist *o,
			  const struct rules_set *r, struct check_result *c)
{
	if (b->calls >= r->min_calls && o->calls >= r->min_calls)
		return false;
	c->result = VERDICT_INCONCLUSIVE;
	snprintf(c->detail, sizeof(c->detail), "too few calls: %llu before, %llu after",
		 (unsigned long long)b->calls, (unsigned long long)o->calls);
	return true;
}

static void check_latency(const struct func_window *b, const struct func_window *o,
			  const struct rules_set *r, double alpha, struct check_result *c)
{
	if (b->none) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "no baseline: the function was first seen "
			 "already patched; %llu calls after", (unsigned long long)o->hist->calls);
		return;
	}
	if (b->incomparable) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "%s; p50 %.0fns before, %.0fns after",
			 b->incomparable, hist_percentile(b->hist, 0.5), hist_percentile(o->hist, 0.5));
		return;
	}
	check_distribution(b->hist, o->hist, r->min_calls, r->latency.ratio, r->latency.min_delta_ns,
			   alpha, c);
}

static void check_errors(const struct func_window *b, const struct func_window *o,
			 const struct rules_set *r, double alpha, struct check_result *c)
{
	const struct lps_hist *hb = b->hist, *ho = o->hist;
	double rb, ro;

	if (b->none) {
		/* Nothing to compare with: only the rule's absolute limits. */
		ro = ho->calls ? (double)ho->errors / (double)ho->calls : 0;
		snprintf(c->detail, sizeof(c->detail), "no baseline; errors %llu/%llu (%.3g%%) against "
			 "the rule (at least %llu errors and %.3g%%)", (unsigned long long)ho->errors,
			 (unsigned long long)ho->calls, ro * 100,
			 (unsigned long long)r->errors.min_errors, r->errors.rate_increase * 100);
		if (ho->calls < r->min_calls)
			c->result = VERDICT_INCONCLUSIVE;
		else if (ho->errors >= r->errors.min_errors && ro >= r->errors.rate_increase)
			c->result = VERDICT_FAIL;
		return;
	}
	if (too_few_calls(hb, ho, r, c))
		return;
	rb = (double)hb->errors / (double)hb->calls;
	ro = (double)ho->errors / (double)ho->calls;
	c->p = stats__error_rate_p(hb->errors, hb->calls, ho->errors, ho->calls);
	snprintf(c->detail, sizeof(c->detail), "errors %llu/%llu (%.3g%%) -> %llu/%llu (%.3g%%), "
		 "binomial p=%.3g (alpha %.3g)", (unsigned long long)hb->errors,
		 (unsigned long long)hb->calls, rb * 100, (unsigned long long)ho->errors,
		 (unsigned long long)ho->calls, ro * 100, c->p, alpha);
	if (ho->errors >= r->errors.min_errors && ro - rb >= r->errors.rate_increase && c->p < alpha)
		c->result = VERDICT_FAIL;
}

static void check_lock_contention(const struct func_window *b, const struct func_window *o,
				  const struct rules_set *r, double alpha, struct check_result *c)
{
	char wait[32];
	size_t off;

	/* No minimum of calls: contention can starve callers; min_events guards instead. */
	check_rate("contentions", b->sig->contended, b->hist->calls, o->sig->contended,
		   o->hist->calls, r->lock_contention.min_events, r->lock_contention.rate_increase,
		   alpha, c);
	fmt_ns(wait, sizeof(wait), (double)o->sig->contention_ns);
	off = strlen(c->detail);
	snprintf(c->detail + off, sizeof(c->detail) - off, ", %s waited after", wait);
	/* A fail stands (what was seen regressed); a pass is one of sleeping locks alone. */
	c->coverage = o->lock_coverage;
}

static void check_kernel_faults(const struct func_window *b, const struct func_window *o,
				const struct rules_set *r, double alpha, struct check_result *c)
{
	if (o->faults > r->kernel_faults.max_events) {
		c->result = VERDICT_FAIL;
		snprintf(c->detail, sizeof(c->detail), "%zu kernel fault%s in its call trace: %s",
			 o->faults, o->faults == 1 ? "" : "s", o->fault_line ? o->fault_line : "?");
		return;
	}
	if (too_few_calls(b->hist, o->hist, r, c))
		return;
	check_rate("no kernel log faults; page faults", b->sig->page_faults, b->hist->calls,
		   o->sig->page_faults, o->hist->calls, r->kernel_faults.min_page_faults,
		   r->kernel_faults.page_fault_rate_increase, alpha, c);
}

typedef void (*func_check_fn)(const struct func_window *, const struct func_window *,
			      const struct rules_set *, double, struct check_result *);

/* Adding a check: one function above and one line here. */
static const struct {
	const char *name;
	func_check_fn run;
	size_t enabled_offset;	/* the rules_set bool that turns it on */
	bool needs_signals;
} checks[] = {
	{ "latency", check_latency, offsetof(struct rules_set, latency.enabled), false },
	{ "errors", check_errors, offsetof(struct rules_set, errors.enabled), false },
	{ "lock_contention", check_lock_contention,
	  offsetof(struct rules_set, lock_contention.enabled), true },
	{ "kernel_faults", check_kernel_faults, offsetof(struct rules_set, kernel_faults.enabled), true },
};

static bool enabled(const struct rules_set *r, size_t offset)
{
	return *(const bool *)((const char *)r + offset);
}

const struct check_result *judge__partial(const struct func_judgement *j, size_t n,
					  const struct func_judgement *sys)
{
	for (size_t i = 0; i <= n; i++) {
		const struct func_judgement *f = i < n ? &j[i] : sys;

		for (size_t k = 0; f && k < f->n; k++)
			if (f->checks[k].coverage)
				return &f->checks[k];
	}
	return NULL;
}

static struct check_result *next_check(struct func_judgement *out, const char *name)
{
	struct check_result *c = &out->checks[out->n++];

	c->check = name;
	c->result = VERDICT_PASS;
	c->p = 1;
	return c;
}

static void finish(struct func_judgement *out)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->checks[i].result > out->verdict)
			out->verdict = out->checks[i].result;
}

void judge__function(const struct func_window *baseline, const struct func_window *observed,
		     const struct rules_set *r, double alpha, struct func_judgement *out)
{
	bool sig = baseline->sig && observed->sig;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (!enabled(r, checks[i].enabled_offset) || (checks[i].needs_signals && !sig))
			continue;
		checks[i].run(baseline, observed, r, alpha, next_check(out, checks[i].name));
	}
	finish(out);
}

void judge__system(const struct sys_window *b, const struct sys_window *o,
		   const struct rules_set *r, double alpha, struct func_judgement *out)
{
	struct check_result *c;

	memset(out, 0, sizeof(*out));
	if (r->lock_contention.enabled && b->sig && o->sig && b->seconds > 0 && o->seconds > 0) {
		/* Exposure in milliseconds: a rate per time, not per call. */
		__u64 t1 = (__u64)(b->seconds * 1000), t2 = (__u64)(o->seconds * 1000);
		double r1 = (double)b->sig->contended / b->seconds;
		double r2 = (double)o->sig->contended / o->seconds;
		double more = (double)o->sig->contended - r1 * o->seconds;

		c = next_check(out, "lock_contention");
		c->p = stats__error_rate_p(b->sig->contended, t1, o->sig->contended, t2);
		snprintf(c->detail, sizeof(c->detail), "system-wide %.0f/s -> %.0f/s contentions, "
			 "Poisson p=%.3g (alpha %.3g)", r1, r2, c->p, alpha);
		if (c->p < alpha && r2 >= r->lock_contention.sys_ratio * r1 &&
		    more >= (double)r->lock_contention.sys_min_events)
			c->result = VERDICT_FAIL;
		c->coverage = o->lock_coverage;
	}
	if (r->runqueue_latency.enabled && b->runq && o->runq)
		check_distribution(b->runq, o->runq, r->min_calls, r->runqueue_latency.ratio,
				   r->runqueue_latency.min_delta_ns, alpha,
				   next_check(out, "runqueue_latency"));
	if (r->kernel_faults.enabled) {
		c = next_check(out, "kernel_faults");
		if (o->log_unreadable) {
			c->result = VERDICT_INCONCLUSIVE;
			snprintf(c->detail, sizeof(c->detail), "the kernel log could not be read");
			goto done;
		}
		snprintf(c->detail, sizeof(c->detail), "%zu kernel fault%s in the window%s%s", o->faults,
			 o->faults == 1 ? "" : "s", o->faults ? ", first: " : "",
			 o->faults && o->fault_line ? o->fault_line : "");
		if (o->faults > r->kernel_faults.max_events)
			c->result = VERDICT_FAIL;
	}
done:
	finish(out);
}
