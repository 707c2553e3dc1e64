/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The statistics the judge uses, on the binned data the probes produce:
 * Mann-Whitney U with each histogram bucket a tie group, confidence bounds of
 * quantiles, and a conditional binomial test of error rates.
 */
#ifndef LPS_STATS_H
#define LPS_STATS_H

#include <stddef.h>
#include <linux/types.h>
#include "lpsentinel.h"

struct mwu_result {
	double n1, n2;		/* sample sizes: a (before), b (after) */
	double u;		/* U statistic of b: pairs where b > a, ties count 1/2 */
	double z;		/* normal approximation, tie-corrected, continuity-corrected */
	double p_greater;	/* one-sided: b stochastically greater than a */
	double p_two_sided;
	double effect;		/* U / (n1 n2) = P(b > a) + P(b = a) / 2 */
};

/*
 * a and b are counts over the same n buckets, in increasing order of value.
 * -EINVAL when either sample is empty or all values tie (no variance).
 */
int stats__mann_whitney(const __u64 *a, const __u64 *b, size_t n, struct mwu_result *out);

/*
 * Stratified Mann-Whitney (van Elteren): k strata, stratum h the pair a[h]
 * (before) and b[h] (after) over the same n buckets. Each stratum's U is
 * centred on its own null mean and weighted 1 / (N_h + 1), so a stratum is
 * only ever ranked within itself: levels that differ between strata (hosts)
 * do not count as a shift. z and p_greater are of the weighted sum, without
 * continuity correction; u and effect are pooled over the strata used.
 * k == 1 is stats__mann_whitney exactly. Returns the number of strata used
 * (a stratum with an empty side or all ties adds nothing), or -EINVAL for none.
 */
int stats__van_elteren(const __u64 **a, const __u64 **b, size_t k, size_t n,
		       struct mwu_result *out);

/*
 * Distribution-free bounds of the q-quantile of h at confidence conf (two
 * sided), from the normal approximation of the binomial count below it.
 */
int stats__quantile_bounds(const struct lps_hist *h, double q, double conf, double *lo,
			   double *hi);
/*
 * The same for a histogram whose counts are weighted (hist_standardize):
 * the bounds' width is that of n independent latencies, its effective size.
 */
int stats__quantile_bounds_n(const struct lps_hist *h, double n, double q, double conf,
			     double *lo, double *hi);

/*
 * Errors e1 of n1 calls before, e2 of n2 after: under equal per-call rates,
 * e2 given e1 + e2 is Binomial(e1 + e2, n2 / (n1 + n2)). Returns the one-sided
 * p-value of seeing e2 or more: exact, or, when the count's variance passes
 * a million, its normal approximation (bounded time whatever the counts).
 */
double stats__error_rate_p(__u64 e1, __u64 n1, __u64 e2, __u64 n2);

/*
 * The rate test over k strata: e1[h] events in n1[h] units before and e2[h]
 * in n2[h] after, each stratum with its own rate. Under no change, e2[h]
 * given e1[h] + e2[h] is Binomial(e1[h] + e2[h], n2[h] / (n1[h] + n2[h]));
 * the tail of their sum over the strata is computed exactly (by convolution)
 * up to 5000 events, and past that from its mean and variance (Cochran-
 * Mantel-Haenszel, continuity-corrected). A stratum without exposure on
 * both sides is left out; one stratum with events, and k == 1, is
 * stats__error_rate_p.
 */
double stats__rate_p_strata(const __u64 *e1, const __u64 *n1, const __u64 *e2, const __u64 *n2,
			    size_t k);

/* Standard normal helpers. */
double stats__norm_sf(double z);	/* P(Z > z) */
double stats__norm_isf(double p);	/* z with P(Z > z) = p */

#endif
