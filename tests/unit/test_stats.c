// SPDX-License-Identifier: GPL-2.0
/* user/stats.c against SciPy's values on the same binned data (stats_vectors.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <cmocka.h>
#include "hist.h"
#include "stats.h"
#include "stats_vectors.h"

static void close_to(double got, double want, double rel, const char *what, size_t i)
{
	double tol = rel * fmax(fabs(want), 1e-300) + 1e-12;

	if (fabs(got - want) > tol) {
		print_error("%s[%zu]: got %.10g, SciPy %.10g\n", what, i, got, want);
		fail();
	}
}

static void test_mann_whitney_matches_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mwu_vectors) / sizeof(mwu_vectors[0]); i++) {
		const struct mwu_vector *v = &mwu_vectors[i];
		struct mwu_result r;

		assert_int_equal(stats__mann_whitney((const __u64 *)v->a, (const __u64 *)v->b, NB, &r), 0);
		close_to(r.u, v->u, 1e-12, "U", i);
		close_to(r.p_greater, v->p_greater, 1e-6, "p_greater", i);
		close_to(r.p_two_sided, v->p_two_sided, 1e-6, "p_two_sided", i);
	}
}

static void test_mann_whitney_degenerate(void **state)
{
	__u64 a[3] = { 5, 0, 0 }, b[3] = { 7, 0, 0 }, z[3] = { 0 };
	struct mwu_result r;

	(void)state;
	assert_int_equal(stats__mann_whitney(a, z, 3, &r), -EINVAL);	/* empty */
	assert_int_equal(stats__mann_whitney(a, b, 3, &r), -EINVAL);	/* all tied */
}

static void test_error_rate_matches_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rate_vectors) / sizeof(rate_vectors[0]); i++) {
		const struct rate_vector *v = &rate_vectors[i];

		close_to(stats__error_rate_p(v->e1, v->n1, v->e2, v->n2), v->p, 1e-8, "rate p", i);
	}
}

static void test_quantile_bounds_cover(void **state)
{
	struct lps_hist *h = calloc(1, sizeof(*h));
	double lo, hi, p50;

	(void)state;
	assert_non_null(h);
	for (__u64 v = 1000; v < 11000; v += 1) {
		h->buckets[lps_hist_bucket(v)]++;
		h->sum_ns += v;
	}
	h->max_ns = 10999;
	p50 = hist_percentile(h, 0.5);
	assert_int_equal(stats__quantile_bounds(h, 0.5, 0.95, &lo, &hi), 0);
	assert_true(lo <= p50 && p50 <= hi);
	assert_true(hi - lo < 0.05 * p50);	/* 10000 samples: a tight interval */
	assert_true(fabs(stats__norm_isf(0.025) - 1.959963985) < 1e-6);
	free(h);
}

static void test_van_elteren_matches_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ve_vectors) / sizeof(ve_vectors[0]); i++) {
		const struct ve_vector *v = &ve_vectors[i];
		const __u64 *a[NS], *b[NS];
		struct mwu_result r;

		for (size_t h = 0; h < NS; h++) {
			a[h] = (const __u64 *)v->a[h];
			b[h] = (const __u64 *)v->b[h];
		}
		/* the strata past k are empty: they add nothing */
		assert_int_equal(stats__van_elteren(a, b, NS, NB, &r), v->k);
		close_to(r.z, v->z, 1e-8, "van Elteren z", i);
		close_to(r.p_greater, v->p_greater, 1e-6, "van Elteren p", i);
	}
}

/* One stratum is the plain Mann-Whitney test, continuity correction and all. */
static void test_van_elteren_one_stratum(void **state)
{
	const __u64 *a[1] = { (const __u64 *)mwu_vectors[3].a }, *b[1] = { (const __u64 *)mwu_vectors[3].b };
	struct mwu_result one, plain;

	(void)state;
	assert_int_equal(stats__van_elteren(a, b, 1, NB, &one), 0);
	assert_int_equal(stats__mann_whitney(a[0], b[0], NB, &plain), 0);
	assert_true(one.p_greater == plain.p_greater && one.u == plain.u);
}

/*
 * The stratified rate test against the exact tail of a sum of binomials
 * (SciPy, by convolution): exact up to 5000 events (so never too kind to a
 * small tail, which the normal approximation was: 2.4e-4 for an exact
 * 3.7e-3), and past that, the normal approximation, within a factor of 1.5.
 */
static void test_rate_strata_vs_exact(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(srate_vectors) / sizeof(srate_vectors[0]); i++) {
		const struct srate_vector *v = &srate_vectors[i];
		double p = stats__rate_p_strata((const __u64 *)v->e1, (const __u64 *)v->n1,
						(const __u64 *)v->e2, (const __u64 *)v->n2, 3);
		unsigned long long events = 0;

		for (size_t h = 0; h < 3; h++)
			events += v->e1[h] + v->e2[h];
		print_message("stratified rate [%zu]: %.4g, exact %.4g (%llu events)\n", i, p,
			      v->exact, events);
		if (events <= 5000)
			close_to(p, v->exact, 1e-6, "stratified rate", i);
		else
			assert_true(p < 1.5 * v->exact && p > v->exact / 1.5);
	}
	/* one stratum: the exact conditional binomial test */
	assert_true(stats__rate_p_strata(&rate_vectors[3].e1, &rate_vectors[3].n1, &rate_vectors[3].e2,
					 &rate_vectors[3].n2, 1) ==
		    stats__error_rate_p(rate_vectors[3].e1, rate_vectors[3].n1, rate_vectors[3].e2,
					rate_vectors[3].n2));
	/* counts no window holds, as a crafted verdict may claim: an answer, at once */
	assert_true(stats__error_rate_p(1ULL << 60, 1ULL << 61, 1ULL << 60, 1ULL << 61) > 0.4);
	assert_true(stats__error_rate_p(1000000000000000ULL, 2000000000000000ULL, 1, 2) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mann_whitney_matches_scipy),
		cmocka_unit_test(test_van_elteren_matches_scipy),
		cmocka_unit_test(test_van_elteren_one_stratum),
		cmocka_unit_test(test_rate_strata_vs_exact),
		cmocka_unit_test(test_mann_whitney_degenerate),
		cmocka_unit_test(test_error_rate_matches_scipy),
		cmocka_unit_test(test_quantile_bounds_cover),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
