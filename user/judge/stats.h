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
 * Distribution-free bounds of the q-quantile of h at confidence conf (two
 * sided), from the normal approximation of the binomial count below it.
 */
int stats__quantile_bounds(const struct lps_hist *h, double q, double conf, double *lo,
			   double *hi);

/*
 * Errors e1 of n1 calls before, e2 of n2 after: under equal per-call rates,
 * e2 given e1 + e2 is Binomial(e1 + e2, n2 / (n1 + n2)). Returns the one-sided
 * p-value of seeing e2 or more.
 */
double stats__error_rate_p(__u64 e1, __u64 n1, __u64 e2, __u64 n2);

/* Standard normal helpers. */
double stats__norm_sf(double z);	/* P(Z > z) */
double stats__norm_isf(double p);	/* z with P(Z > z) = p */

#endif
