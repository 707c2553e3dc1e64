// SPDX-License-Identifier: GPL-2.0
/* Histogram bucket math and percentiles against exact values from raw samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "hist.h"

static void test_buckets_tile_the_line(void **state)
{
	(void)state;
	/* Every bucket starts where the previous ends: no gaps, no overlap. */
	for (__u32 i = 0; i + 1 < HIST_BUCKETS - 1; i++)
		assert_int_equal(hist_bucket_upper(i), hist_bucket_lower(i + 1));
	assert_int_equal(hist_bucket_lower(0), 0);
	assert_int_equal(HIST_BUCKETS, 544);
}

static void test_value_lands_in_its_bucket(void **state)
{
	(void)state;
	/* Exhaustive below 2^16, then every power of two and its neighbours. */
	for (__u64 v = 0; v < (1u << 16); v++) {
		__u32 b = lps_hist_bucket(v);

		assert_true(hist_bucket_lower(b) <= v);
		assert_true(v < hist_bucket_upper(b));
	}
	for (int e = 4; e <= HIST_MAX_EXP; e++) {
		__u64 p = 1ULL << e;
		__u64 vals[] = { p - 1, p, p + 1, p + p / 3, 2 * p - 1 };

		for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
			__u32 b = lps_hist_bucket(vals[k]);

			assert_true(hist_bucket_lower(b) <= vals[k]);
			assert_true(vals[k] < hist_bucket_upper(b));
		}
	}
	/* Past the top: clamped into the last bucket. */
	assert_int_equal(lps_hist_bucket(1ULL << 40), HIST_BUCKETS - 1);
	assert_int_equal(lps_hist_bucket(~0ULL), HIST_BUCKETS - 1);
}

static void test_bucket_width_is_log_linear(void **state)
{
	(void)state;
	/* Above the linear range a bucket is at most 1/16 of its lower edge. */
	for (__u32 i = HIST_SUB; i < HIST_BUCKETS - 1; i++) {
		__u64 lo = hist_bucket_lower(i), w = hist_bucket_upper(i) - lo;

		assert_true(w * HIST_SUB <= lo);
	}
}

/* xorshift64*: fixed seed, so the test is the same on every run. */
static __u64 rng_state = 0x9e3779b97f4a7c15ULL;

static double uniform01(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The sample of rank ceil(q*n): the exact q-quantile of the raw data. */
static __u64 exact_quantile(const __u64 *sorted, size_t n, double q)
{
	size_t r = (size_t)ceil(q * (double)n);

	return sorted[r ? r - 1 : 0];
}

static void check_distribution(__u64 (*draw)(void), size_t n)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	struct lps_hist *h = calloc(1, sizeof(*h));
	__u64 *s = calloc(n, sizeof(*s)), sum = 0;

	assert_non_null(h);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		s[i] = draw();
		h->buckets[lps_hist_bucket(s[i])]++;
		sum += s[i];
		if (s[i] > h->max_ns)
			h->max_ns = s[i];
	}
	h->sum_ns = sum;
	h->calls = n;
	qsort(s, n, sizeof(*s), cmp_u64);
	assert_int_equal(hist_recorded(h), n);
	assert_true(fabs(hist_mean(h) - (double)sum / (double)n) < 1e-6);
	{
		/* The variance from bucket midpoints, against the exact one: a
		 * bucket is 1/16 of its value wide, so within a few percent. */
		double mean = (double)sum / (double)n, ss = 0, exact_var;

		for (size_t i = 0; i < n; i++)
			ss += ((double)s[i] - mean) * ((double)s[i] - mean);
		exact_var = ss / (double)(n - 1);
		if (fabs(hist_variance(h) - exact_var) > 0.05 * exact_var + 1) {
			print_error("variance %.1f, exact %.1f\n", hist_variance(h), exact_var);
			fail();
		}
	}
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		__u64 exact = exact_quantile(s, n, qs[k]);
		__u32 b = lps_hist_bucket(exact);
		double est = hist_percentile(h, qs[k]);
		double width = (double)(hist_bucket_upper(b) - hist_bucket_lower(b));

		/* Within the width of the bucket that holds the true value (<= 6.25 %). */
		if (fabs(est - (double)exact) > width) {
			print_error("q=%.3f exact=%llu est=%.1f width=%.0f\n", qs[k],
				    (unsigned long long)exact, est, width);
			fail();
		}
	}
	assert_true(hist_percentile(h, 1.0) <= (double)h->max_ns);
	free(s);
	free(h);
}

static __u64 draw_uniform(void) { return 1000 + (__u64)(uniform01() * 9000); }
static __u64 draw_lognormal(void)
{
	double u1 = uniform01() + 1e-12, u2 = uniform01();
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

	return (__u64)exp(8.0 + 0.7 * z);	/* median ~3 us, long tail */
}
static __u64 draw_bimodal(void)
{
	return uniform01() < 0.8 ? 2000 + (__u64)(uniform01() * 200)
				 : 150000 + (__u64)(uniform01() * 30000);
}
static __u64 draw_tiny(void) { return (__u64)(uniform01() * 40); }

static void test_percentiles_uniform(void **state) { (void)state; check_distribution(draw_uniform, 100000); }
static void test_percentiles_lognormal(void **state) { (void)state; check_distribution(draw_lognormal, 200000); }
static void test_percentiles_bimodal(void **state) { (void)state; check_distribution(draw_bimodal, 50000); }
static void test_percentiles_tiny_values(void **state) { (void)state; check_distribution(draw_tiny, 10000); }

static void test_percentile_of_empty_and_single(void **state)
{
	struct lps_hist h = { 0 };

	(void)state;
	assert_true(hist_percentile(&h, 0.5) == 0);
	assert_true(hist_mean(&h) == 0);
	h.buckets[lps_hist_bucket(5000)] = 1;
	h.max_ns = 5000;
	h.sum_ns = 5000;
	/* One sample: every quantile is within its bucket and never above max. */
	assert_true(hist_percentile(&h, 0.99) <= 5000);
	assert_true(hist_percentile(&h, 0.01) >= hist_bucket_lower(lps_hist_bucket(5000)));
}

static void test_delta_and_add(void **state)
{
	struct lps_hist a = { 0 }, b = { 0 }, d, sum = { 0 };

	(void)state;
	a.calls = 10; a.errors = 1; a.sum_ns = 100; a.max_ns = 900;
	a.buckets[lps_hist_bucket(20)] = 5;
	b = a;
	b.calls = 25; b.errors = 4; b.sum_ns = 400; b.max_ns = 900;
	b.buckets[lps_hist_bucket(20)] = 9;
	b.buckets[lps_hist_bucket(300)] = 2;
	hist_delta(&d, &b, &a);
	assert_int_equal(d.calls, 15);
	assert_int_equal(d.errors, 3);
	assert_int_equal(d.sum_ns, 300);
	assert_int_equal(d.buckets[lps_hist_bucket(20)], 4);
	assert_int_equal(d.buckets[lps_hist_bucket(300)], 2);
	/* The interval's max cannot exceed its highest bucket, nor the running max. */
	assert_true(d.max_ns >= 300 && d.max_ns < hist_bucket_upper(lps_hist_bucket(300)));
	hist_add(&sum, &a);
	hist_add(&sum, &d);
	assert_int_equal(sum.calls, b.calls);
	assert_int_equal(sum.buckets[lps_hist_bucket(300)], 2);
	assert_int_equal(sum.max_ns, 900);
}

static void test_error_classification(void **state)
{
	(void)state;
	/* int: the register's low 32 bits, whatever the upper half holds. */
	assert_true(lps_is_error(0x00000000ffffffeaULL, LPS_RET_INT32));	/* -EINVAL */
	assert_true(lps_is_error((__u64)-22, LPS_RET_INT32));
	assert_false(lps_is_error(0, LPS_RET_INT32));
	assert_false(lps_is_error(0x00000000fffff000ULL, LPS_RET_INT32));	/* -4096 */
	assert_true(lps_is_error(0x00000000fffff001ULL, LPS_RET_INT32));	/* -4095 */
	assert_false(lps_is_error(5, LPS_RET_INT32));
	/* long and pointers: the whole register. */
	assert_true(lps_is_error((__u64)-2, LPS_RET_INT64));
	assert_false(lps_is_error(0x00000000fffffffeULL, LPS_RET_INT64));
	assert_true(lps_is_error((__u64)-12, LPS_RET_PTR));	/* ERR_PTR(-ENOMEM) */
	assert_false(lps_is_error(0xffff888012345678ULL, LPS_RET_PTR));
	assert_false(lps_is_error(0, LPS_RET_PTR));			/* NULL is not IS_ERR */
	/* Unknown: either reading. */
	assert_true(lps_is_error(0x00000000ffffffeaULL, LPS_RET_UNKNOWN));
	assert_true(lps_is_error((__u64)-22, LPS_RET_UNKNOWN));
	assert_false(lps_is_error(0xffff888012345678ULL, LPS_RET_UNKNOWN));
	/* void and no-errno types never count. */
	assert_false(lps_is_error((__u64)-22, LPS_RET_VOID));
	assert_false(lps_is_error((__u64)-22, LPS_RET_NEVER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_tile_the_line),
		cmocka_unit_test(test_value_lands_in_its_bucket),
		cmocka_unit_test(test_bucket_width_is_log_linear),
		cmocka_unit_test(test_percentiles_uniform),
		cmocka_unit_test(test_percentiles_lognormal),
		cmocka_unit_test(test_percentiles_bimodal),
		cmocka_unit_test(test_percentiles_tiny_values),
		cmocka_unit_test(test_percentile_of_empty_and_single),
		cmocka_unit_test(test_delta_and_add),
		cmocka_unit_test(test_error_classification),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
