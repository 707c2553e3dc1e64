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

/* The strata a pooled check compares: hosts, each its own before and after. */
struct strata {
	const struct lps_hist *b[JUDGE_MAX_STRATA], *o[JUDGE_MAX_STRATA];
	size_t k;
};

/*
 * Distribution check shared by function latency and run-queue latency:
 * Mann-Whitney for significance (van Elteren over several strata), 99 %
 * quantile bounds for a practical effect (of the strata pooled, before
 * standardized to after's composition: hist_standardize).
 */
static void check_distribution(const struct strata *st, __u64 min_n, double ratio,
			       double min_delta_ns, double alpha, struct check_result *c)
{
	static const double qs[] = { 0.5, 0.9 };
	struct lps_hist pb, po;
	const struct lps_hist *b = st->b[0], *o = st->o[0];
	const __u64 *bb[JUDGE_MAX_STRATA], *ob[JUDGE_MAX_STRATA];
	__u64 nb = 0, no = 0;
	double nb_eff = 0;
	struct mwu_result m;
	char before[32], after[32], hosts[48] = "";
	int used;

	for (size_t h = 0; h < st->k; h++) {
		nb += hist_recorded(st->b[h]);
		no += hist_recorded(st->o[h]);
		bb[h] = st->b[h]->buckets;
		ob[h] = st->o[h]->buckets;
	}
	if (nb < min_n || no < min_n) {
		c->result = VERDICT_INCONCLUSIVE;
		snprintf(c->detail, sizeof(c->detail), "too few timed calls: %llu before, %llu after "
			 "(need %llu each)", (unsigned long long)nb, (unsigned long long)no,
			 (unsigned long long)min_n);
		return;
	}
	used = stats__van_elteren(bb, ob, st->k, HIST_BUCKETS, &m);
	if (used < 0) {
		snprintf(c->detail, sizeof(c->detail), "identical distributions");
		return;
	}
	if (st->k > 1) {
		nb_eff = hist_standardize(&pb, &po, st->b, st->o, st->k);
		b = &pb;
		o = &po;
		snprintf(hosts, sizeof(hosts), " (van Elteren over %d of %zu hosts)", used, st->k);
	}
	c->p = m.p_greater;
	fmt_ns(before, sizeof(before), hist_percentile(b, 0.5));
	fmt_ns(after, sizeof(after), hist_percentile(o, 0.5));
	snprintf(c->detail, sizeof(c->detail), "p50 %s -> %s, Mann-Whitney p=%.3g%s (alpha %.3g), "
		 "P(after > before)=%.2f", before, after, m.p_greater, hosts, alpha, m.effect);
	if (m.p_greater >= alpha)
		return;
	/* Significant: is it big enough to matter? Conservative bounds both ways. */
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double blo, bhi, olo, ohi;

		if ((st->k > 1 ? stats__quantile_bounds_n(b, nb_eff, qs[i], QUANTILE_CONF, &blo, &bhi) :
				 stats__quantile_bounds(b, qs[i], QUANTILE_CONF, &blo, &bhi)) ||
		    stats__quantile_bounds(o, qs[i], QUANTILE_CONF, &olo, &ohi))
			continue;
		if (olo >= ratio * bhi && olo - bhi >= min_delta_ns) {
			fmt_ns(before, sizeof(before), bhi);
			fmt_ns(after, sizeof(after), olo);
			c->result = VERDICT_FAIL;
			snprintf(c->detail, sizeof(c->detail), "p%.0f at least %s after vs at most %s "
				 "before (x%.1f >= x%.2f, +%.0fns >= %.0fns), Mann-Whitney p=%.3g%s",
				 qs[i] * 100, after, before, olo / bhi, ratio, olo - bhi, min_delta_ns,
				 m.p_greater, hosts);
			return;
		}
	}
	strncat(c->detail, "; slower, but below the practical threshold",
		sizeof(c->detail) - strlen(c->detail) - 1);
}

/* Events per unit of exposure in k strata: e1[h] of n1[h] before, e2[h] of n2[h] after. */
struct rate_strata {
	__u64 e1[JUDGE_MAX_STRATA], n1[JUDGE_MAX_STRATA], e2[JUDGE_MAX_STRATA], n2[JUDGE_MAX_STRATA];
	size_t k;
};

/*
 * Events per unit of exposure (calls, or milliseconds), before and after:
 * conditional binomial test (stratified over several strata), a minimum
 * count after and a minimum growth of the rate. Over several strata only
 * those with exposure on both sides count, in the test and in the rates,
 * and the rate before is standardized to after's exposure per stratum, as
 * the latencies are. The detail says what was counted, per call or (errors)
 * in percent.
 */
static void check_rate(const char *what, bool percent, const struct rate_strata *rs,
		       __u64 min_events, double rate_increase, double alpha, struct check_result *c)
{
	__u64 e1 = 0, n1 = 0, e2 = 0, n2 = 0;
	double rb = 0, ro, scale = percent ? 100 : 1;
	const char *unit = percent ? "%%" : " per call";
	char fmt[160];

	for (size_t h = 0; h < rs->k; h++) {
		if (rs->k > 1 && (!rs->n1[h] || !rs->n2[h]))
			continue;	/* no basis for comparison on this host: left out */
		e1 += rs->e1[h];
		n1 += rs->n1[h];
		e2 += rs->e2[h];
		n2 += rs->n2[h];
	}
	if (rs->k == 1)
		rb = n1 ? (double)e1 / (double)n1 : 0;
	else
		for (size_t h = 0; h < rs->k && n2; h++)
			if (rs->n1[h] && rs->n2[h])
				rb += (double)rs->n2[h] / (double)n2 *
				      ((double)rs->e1[h] / (double)rs->n1[h]);
	ro = n2 ? (double)e2 / (double)n2 : 0;
	c->p = stats__rate_p_strata(rs->e1, rs->n1, rs->e2, rs->n2, rs->k);
	snprintf(fmt, sizeof(fmt), "%%s %%llu/%%llu%s (%%.3g%s) -> %%llu/%%llu (%%.3g%s), %%s p=%%.3g "
		 "(alpha %%.3g)", percent ? "" : " calls", unit, unit);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(c->detail, sizeof(c->detail), fmt, what, (unsigned long long)e1,
		 (unsigned long long)n1, rb * scale, (unsigned long long)e2, (unsigned long long)n2,
		 ro * scale, rs->k > 1 ? "stratified binomial" : "binomial", c->p, alpha);
#pragma GCC diagnostic pop
	if (e2 >= min_events && ro - rb >= rate_increase && c->p < alpha)
		c->result = VERDICT_FAIL;
}

static bool too_few_calls(const struct func_window *b, const struct func_window *o, size_t k,
			  const struct rules_set *r, struct check_result *c)
{
	__u64 nb = 0, no = 0;

	for (size_t h = 0; h < k; h++) {
		nb += b[h].hist->calls;
		no += o[h].hist->calls;
	}
	if (nb >= r->min_calls && no >= r->min_calls)
		return false;
	c->result = VERDICT_INCONCLUSIVE;
	snprintf(c->detail, sizeof(c->detail), "too few calls: %llu before, %llu after",
		 (unsigned long long)nb, (unsigned long long)no);
	return true;
}

/* The strata with a comparable baseline; *why: what the first one left out lacked. */
static void comparable(const struct func_window *b, const struct func_window *o, size_t k,
		       struct strata *st, const char **why)
{
	st->k = 0;
	*why = NULL;
	for (size_t h = 0; h < k; h++) {
		if (b[h].none || b[h].incomparable) {
			if (!*why)
				*why = b[h].none ? "no baseline: the function was first seen already "
					"patched" : b[h].incomparable;
			continue;
		}
		st->b[st->k] = b[h].hist;
		st->o[st->k++] = o[h].hist;
	}
}

static void check_latency(const struct func_window *b, const struct func_window *o, size_t k,
			  const struct rules_set *r, double alpha, struct check_result *c)
{
	struct strata st;
	const char *why;

	comparable(b, o, k, &st, &why);
	if (st.k) {	/* over several hosts, those without a comparable baseline are left out */
		check_distribution(&st, r->min_calls, r->latency.ratio, r->latency.min_delta_ns,
				   alpha, c);
		return;
	}
	c->result = VERDICT_INCONCLUSIVE;
	if (b->none)
		snprintf(c->detail, sizeof(c->detail), "%s; %llu calls after", why,
			 (unsigned long long)o->hist->calls);
	else
		snprintf(c->detail, sizeof(c->detail), "%s; p50 %.0fns before, %.0fns after", why,
			 hist_percentile(b->hist, 0.5), hist_percentile(o->hist, 0.5));
}

/*
 * Every stratum's events and calls; over several, one without a baseline
 * counts nothing before, which leaves it out (check_rate). Returns how many
 * had no baseline.
 */
static size_t rate_of(const struct func_window *b, const struct func_window *o, size_t k,
		      __u64 (*events)(const struct func_window *), struct rate_strata *rs)
{
	size_t none = 0;

	rs->k = k;
	for (size_t h = 0; h < k; h++) {
		/* One stratum (gate, watch) compares what its windows hold, as it always did. */
		bool drop = k > 1 && b[h].none;

		none += b[h].none;
		rs->e1[h] = drop ? 0 : events(&b[h]);
		rs->n1[h] = drop ? 0 : b[h].hist->calls;
		rs->e2[h] = events(&o[h]);
		rs->n2[h] = o[h].hist->calls;
	}
	return none;
}

static __u64 errors_of(const struct func_window *w) { return w->hist->errors; }
static __u64 contended_of(const struct func_window *w) { return w->sig->contended; }
static __u64 page_faults_of(const struct func_window *w) { return w->sig->page_faults; }

static void check_errors(const struct func_window *b, const struct func_window *o, size_t k,
			 const struct rules_set *r, double alpha, struct check_result *c)
{
	struct rate_strata rs;
	__u64 e = 0, n = 0;
	double ro;

	if (rate_of(b, o, k, errors_of, &rs) == k) {
		/* Nothing to compare with: only the rule's absolute limits. */
		for (size_t h = 0; h < k; h++) {
			e += o[h].hist->errors;
			n += o[h].hist->calls;
		}
		ro = n ? (double)e / (double)n : 0;
		snprintf(c->detail, sizeof(c->detail), "no baseline; errors %llu/%llu (%.3g%%) against "
			 "the rule (at least %llu errors and %.3g%%)", (unsigned long long)e,
			 (unsigned long long)n, ro * 100,
			 (unsigned long long)r->errors.min_errors, r->errors.rate_increase * 100);
		if (n < r->min_calls)
			c->result = VERDICT_INCONCLUSIVE;
		else if (e >= r->errors.min_errors && ro >= r->errors.rate_increase)
			c->result = VERDICT_FAIL;
		return;
	}
	if (too_few_calls(b, o, k, r, c))
		return;
	check_rate("errors", true, &rs, r->errors.min_errors, r->errors.rate_increase, alpha, c);
}

static void check_lock_contention(const struct func_window *b, const struct func_window *o,
				  size_t k, const struct rules_set *r, double alpha,
				  struct check_result *c)
{
	struct rate_strata rs;
	__u64 ns = 0;
	char wait[32];
	size_t off;

	/* No minimum of calls: contention can starve callers; min_events guards instead. */
	rate_of(b, o, k, contended_of, &rs);
	check_rate("contentions", false, &rs, r->lock_contention.min_events,
		   r->lock_contention.rate_increase, alpha, c);
	for (size_t h = 0; h < k; h++)
		ns += o[h].sig->contention_ns;
	fmt_ns(wait, sizeof(wait), (double)ns);
	off = strlen(c->detail);
	snprintf(c->detail + off, sizeof(c->detail) - off, ", %s waited after", wait);
	/* A fail stands (what was seen regressed); a pass is one of sleeping locks alone. */
	for (size_t h = 0; h < k && !c->coverage; h++)
		c->coverage = o[h].lock_coverage;
}

static void check_kernel_faults(const struct func_window *b, const struct func_window *o,
				size_t k, const struct rules_set *r, double alpha,
				struct check_result *c)
{
	struct rate_strata rs;
	const char *line = NULL;
	size_t faults = 0;

	/* Faults are evidence wherever they happened: they add up over hosts. */
	for (size_t h = 0; h < k; h++) {
		faults += o[h].faults;
		if (!line && o[h].faults)
			line = o[h].fault_line;
	}
	if (faults > r->kernel_faults.max_events) {
		c->result = VERDICT_FAIL;
		snprintf(c->detail, sizeof(c->detail), "%zu kernel fault%s in its call trace: %s",
			 faults, faults == 1 ? "" : "s", line ? line : "?");
		return;
	}
	if (too_few_calls(b, o, k, r, c))
		return;
	rate_of(b, o, k, page_faults_of, &rs);
	check_rate("no kernel log faults; page faults", false, &rs, r->kernel_faults.min_page_faults,
		   r->kernel_faults.page_fault_rate_increase, alpha, c);
}

typedef void (*func_check_fn)(const struct func_window *, const struct func_window *, size_t,
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

void judge__strata(const struct func_window *baseline, const struct func_window *observed,
		   size_t k, const struct rules_set *r, double alpha, struct func_judgement *out)
{
	bool sig = k > 0 && k <= JUDGE_MAX_STRATA;

	memset(out, 0, sizeof(*out));
	if (!sig) {	/* the callers bound k: this is a bug, never a pass */
		out->verdict = VERDICT_INCONCLUSIVE;
		return;
	}
	for (size_t h = 0; h < k; h++)
		sig = sig && baseline[h].sig && observed[h].sig;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (!enabled(r, checks[i].enabled_offset) || (checks[i].needs_signals && !sig))
			continue;
		checks[i].run(baseline, observed, k, r, alpha, next_check(out, checks[i].name));
	}
	finish(out);
}

void judge__function(const struct func_window *baseline, const struct func_window *observed,
		     const struct rules_set *r, double alpha, struct func_judgement *out)
{
	judge__strata(baseline, observed, 1, r, alpha, out);
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
		c->p = stats__rate_p_strata(&b->sig->contended, &t1, &o->sig->contended, &t2, 1);
		snprintf(c->detail, sizeof(c->detail), "system-wide %.0f/s -> %.0f/s contentions, "
			 "Poisson p=%.3g (alpha %.3g)", r1, r2, c->p, alpha);
		if (c->p < alpha && r2 >= r->lock_contention.sys_ratio * r1 &&
		    more >= (double)r->lock_contention.sys_min_events)
			c->result = VERDICT_FAIL;
		c->coverage = o->lock_coverage;
	}
	if (r->runqueue_latency.enabled && b->runq && o->runq) {
		struct strata st = { .b = { b->runq }, .o = { o->runq }, .k = 1 };

		check_distribution(&st, r->min_calls, r->runqueue_latency.ratio,
				   r->runqueue_latency.min_delta_ns, alpha,
				   next_check(out, "runqueue_latency"));
	}
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
