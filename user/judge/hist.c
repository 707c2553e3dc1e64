// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include <stdio.h>
#include "hist.h"

__u64 hist_bucket_lower(__u32 idx)
{
	__u32 exp, sub;

	if (idx < HIST_SUB)
		return idx;
	exp = (idx - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (idx - HIST_SUB) % HIST_SUB;
	return (__u64)(HIST_SUB + sub) << (exp - HIST_SUB_BITS);
}

__u64 hist_bucket_upper(__u32 idx)
{
	if (idx < HIST_SUB)
		return idx + 1;
	if (idx >= HIST_BUCKETS - 1)	/* the last bucket also holds everything clamped */
		return ~0ULL;
	return hist_bucket_lower(idx + 1);
}

__u64 hist_recorded(const struct lps_hist *h)
{
	__u64 n = 0;

	for (__u32 i = 0; i < HIST_BUCKETS; i++)
		n += h->buckets[i];
	return n;
}

void hist_add(struct lps_hist *dst, const struct lps_hist *src)
{
	dst->calls += src->calls;
	dst->errors += src->errors;
	dst->sum_ns += src->sum_ns;
	dst->unmatched += src->unmatched;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (__u32 i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

void hist_delta(struct lps_hist *out, const struct lps_hist *now, const struct lps_hist *prev)
{
	int top = -1;

	out->calls = now->calls - prev->calls;
	out->errors = now->errors - prev->errors;
	out->sum_ns = now->sum_ns - prev->sum_ns;
	out->unmatched = now->unmatched - prev->unmatched;
	for (__u32 i = 0; i < HIST_BUCKETS; i++) {
		out->buckets[i] = now->buckets[i] - prev->buckets[i];
		if (out->buckets[i])
			top = (int)i;
	}
	out->max_ns = 0;
	if (top >= 0) {
		__u64 edge = hist_bucket_upper((__u32)top) - 1;

		out->max_ns = edge < now->max_ns ? edge : now->max_ns;
	}
}

double hist_percentile(const struct lps_hist *h, double q)
{
	__u64 n = hist_recorded(h), cum = 0;
	double rank, lo, hi, frac, v;

	if (!n)
		return 0;
	if (q <= 0)
		q = 1e-12;
	if (q > 1)
		q = 1;
	rank = q * (double)n;	/* the sample of this rank (1-based) is the quantile */
	for (__u32 i = 0; i < HIST_BUCKETS; i++) {
		__u64 c = h->buckets[i];

		if (!c || (double)(cum + c) < rank) {
			cum += c;
			continue;
		}
		lo = (double)hist_bucket_lower(i);
		hi = i == HIST_BUCKETS - 1 ? (double)h->max_ns + 1 : (double)hist_bucket_upper(i);
		/* Samples are spread evenly over the bucket: the k-th of c sits at
		 * the middle of the k-th of c equal slices. */
		frac = (rank - (double)cum - 0.5) / (double)c;
		if (frac < 0)
			frac = 0;
		v = lo + frac * (hi - lo);
		if (h->max_ns && v > (double)h->max_ns)
			v = (double)h->max_ns;
		return v;
	}
	return (double)h->max_ns;
}

double hist_mean(const struct lps_hist *h)
{
	__u64 n = hist_recorded(h);

	return n ? (double)h->sum_ns / (double)n : 0;
}

double hist_variance(const struct lps_hist *h)
{
	__u64 n = hist_recorded(h);
	double mean = hist_mean(h), ss = 0;

	if (n < 2)
		return 0;
	for (__u32 i = 0; i < HIST_BUCKETS; i++) {
		double mid, d;

		if (!h->buckets[i])
			continue;
		/* The last bucket is open-ended (clamped values): take the max. */
		mid = i == HIST_BUCKETS - 1 ? (double)h->max_ns :
		      ((double)hist_bucket_lower(i) + (double)hist_bucket_upper(i) - 1) / 2;
		d = mid - mean;
		ss += (double)h->buckets[i] * d * d;
	}
	return ss / (double)(n - 1);
}

void fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

/* Weighted counts are kept to a 64th of a call: a stratum weighted below 1/2 still shows. */
#define STANDARDIZE_SCALE 64.0

double hist_standardize(struct lps_hist *before, struct lps_hist *after,
			const struct lps_hist *const *b, const struct lps_hist *const *a, size_t k)
{
	double nb = 0, na = 0, wn = 0, w2n = 0, calls = 0, errors = 0, sum = 0;

	memset(before, 0, sizeof(*before));
	memset(after, 0, sizeof(*after));
	for (size_t h = 0; h < k; h++) {
		if (!hist_recorded(b[h]) || !hist_recorded(a[h]))
			continue;
		nb += (double)hist_recorded(b[h]);
		na += (double)hist_recorded(a[h]);
	}
	for (size_t h = 0; h < k; h++) {
		double rb = (double)hist_recorded(b[h]), ra = (double)hist_recorded(a[h]), w;

		if (!rb || !ra)
			continue;
		/* before's share of this stratum scaled to after's: the total stays nb */
		w = (ra / na) / (rb / nb);
		wn += w * rb;
		w2n += w * w * rb;
		for (__u32 i = 0; i < HIST_BUCKETS; i++)
			before->buckets[i] += (__u64)fmin((double)b[h]->buckets[i] * w * STANDARDIZE_SCALE + 0.5,
							  1e18);
		calls += (double)b[h]->calls * w;
		errors += (double)b[h]->errors * w;
		sum += (double)b[h]->sum_ns * w * STANDARDIZE_SCALE;
		if (b[h]->max_ns > before->max_ns)
			before->max_ns = b[h]->max_ns;
		hist_add(after, a[h]);
	}
	before->calls = (__u64)fmin(calls, 1e18);
	before->errors = (__u64)fmin(errors, 1e18);
	before->sum_ns = (__u64)fmin(sum, 1.8e19);
	/* Kish's effective size: a few calls weighted up count as few, not as many. */
	return w2n > 0 ? wn * wn / w2n : 0;
}
