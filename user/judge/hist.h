/* SPDX-License-Identifier: GPL-2.0 */
/* Log-linear histogram arithmetic on struct lps_hist (bpf/lpsentinel.h). */
#ifndef LPS_HIST_H
#define LPS_HIST_H

#include <linux/types.h>
#include <stddef.h>
#include "lpsentinel.h"

/* Inclusive lower and exclusive upper edge of bucket idx, in ns. */
__u64 hist_bucket_lower(__u32 idx);
__u64 hist_bucket_upper(__u32 idx);

/* Number of latencies recorded in buckets (calls whose entry and return paired). */
__u64 hist_recorded(const struct lps_hist *h);

/* dst += src; the max of the two maxima. */
void hist_add(struct lps_hist *dst, const struct lps_hist *src);

/*
 * out = now - prev, for counters read at two times. The kernel keeps one running
 * maximum, so the interval's max is bounded by the upper edge of its highest
 * non-empty bucket (and by the running max): exact to one bucket.
 */
void hist_delta(struct lps_hist *out, const struct lps_hist *now, const struct lps_hist *prev);

/*
 * Pools k strata (hosts) for comparing quantiles: after is the sum of the
 * after windows a[h]; before is the sum of the before windows b[h], each
 * reweighted so its stratum's share of before equals its share of after
 * (direct standardization). A stratum that ran more calls after than before
 * then cannot pass its own level off as a shift. Strata with no recorded call
 * on either side are left out of both. before's buckets are kept in 64ths of
 * a call (its percentiles are fractions, unchanged by the scale); returns
 * before's effective size (Kish), what its quantile bounds must use.
 */
double hist_standardize(struct lps_hist *before, struct lps_hist *after,
			const struct lps_hist *const *b, const struct lps_hist *const *a, size_t k);

/*
 * The q-quantile (0 < q <= 1) in ns, interpolated linearly inside the bucket that
 * holds it and clamped to max_ns; 0 when nothing was recorded.
 */
double hist_percentile(const struct lps_hist *h, double q);
double hist_mean(const struct lps_hist *h);
/*
 * Sample variance of the recorded latencies in ns^2, each taken at its
 * bucket's midpoint around the exact mean (a bucket is at most 1/16 of its
 * value wide); 0 below two recorded calls.
 */
double hist_variance(const struct lps_hist *h);

/* A duration as people read it: "812ns", "4.31us", "12.0ms", "1.20s". */
void fmt_ns(char *buf, size_t len, double ns);

#endif
