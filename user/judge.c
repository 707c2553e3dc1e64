// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "hist.h"
#include "judge.h"
#include "report.h"
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

static void check_latency(const struct lps_hist *b, const struct lps_hist *o,
			  const struct rules_set *r, double alpha, struct check_result *c)
{
	static const double qs[] = { 0.5, 0.9 };
	__u64 nb = hist_recorded(b), no = hist_recorded(o);
	struct mwu_result m;
	char before[32], after[32];

	if (nb < r->min_calls || no < r->min_calls) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "too few timed calls: %llu before, %llu after "
			 "(need %llu each)", (unsigned long long)nb, (unsigned long long)no,
			 (unsigned long long)r->min_calls);
		return;
	}
	if (stats__mann_whitney(b->buckets, o->buckets, HIST_BUCKETS, &m)) {
		snprintf(c->detail, sizeof(c->detail), "identical distributions");
		return;
	}
	c->p = m.p_greater;
	report__fmt_ns(before, sizeof(before), hist_percentile(b, 0.5));
	report__fmt_ns(after, sizeof(after), hist_percentile(o, 0.5));
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
		if (olo >= r->latency.ratio * bhi && olo - bhi >= r->latency.min_delta_ns) {
			report__fmt_ns(before, sizeof(before), bhi);
			report__fmt_ns(after, sizeof(after), olo);
			c->result = VERDICT_FAIL;
			snprintf(c->detail, sizeof(c->detail), "p%.0f at least %s after vs at most %s "
				 "before (x%.1f >= x%.2f, +%.0fns >= %.0fns), Mann-Whitney p=%.3g",
				 qs[i] * 100, after, before, olo / bhi, r->latency.ratio, olo - bhi,
				 r->latency.min_delta_ns, m.p_greater);
			return;
		}
	}
	strncat(c->detail, "; slower, but below the practical threshold",
		sizeof(c->detail) - strlen(c->detail) - 1);
}

static void check_errors(const struct lps_hist *b, const struct lps_hist *o,
			 const struct rules_set *r, double alpha, struct check_result *c)
{
	double rb, ro;

	if (b->calls < r->min_calls || o->calls < r->min_calls) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "too few calls: %llu before, %llu after",
			 (unsigned long long)b->calls, (unsigned long long)o->calls);
		return;
	}
	rb = (double)b->errors / (double)b->calls;
	ro = (double)o->errors / (double)o->calls;
	c->p = stats__error_rate_p(b->errors, b->calls, o->errors, o->calls);
	snprintf(c->detail, sizeof(c->detail), "errors %llu/%llu (%.3g%%) -> %llu/%llu (%.3g%%), "
		 "binomial p=%.3g (alpha %.3g)", (unsigned long long)b->errors,
		 (unsigned long long)b->calls, rb * 100, (unsigned long long)o->errors,
		 (unsigned long long)o->calls, ro * 100, c->p, alpha);
	if (o->errors >= r->errors.min_errors && ro - rb >= r->errors.rate_increase && c->p < alpha)
		c->result = VERDICT_FAIL;
}

static const struct {
	const char *name;
	void (*run)(const struct lps_hist *, const struct lps_hist *, const struct rules_set *,
		    double, struct check_result *);
	size_t enabled_offset;	/* the rules_set bool that turns it on */
} checks[] = {
	{ "latency", check_latency, offsetof(struct rules_set, latency.enabled) },
	{ "errors", check_errors, offsetof(struct rules_set, errors.enabled) },
};

void judge__function(const struct lps_hist *baseline, const struct lps_hist *observed,
		     const struct rules_set *r, double alpha, struct func_judgement *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		struct check_result *c = &out->checks[out->n];

		if (!*(const bool *)((const char *)r + checks[i].enabled_offset))
			continue;
		c->check = checks[i].name;
		c->result = VERDICT_PASS;
		c->p = 1;
		checks[i].run(baseline, observed, r, alpha, c);
		if (c->result > out->verdict)
			out->verdict = c->result;
		out->n++;
	}
}
