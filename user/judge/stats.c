// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "stats.h"

double stats__norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

double stats__norm_isf(double p)
{
	/* Bisection on the survival function: plenty precise, never diverges. */
	double lo = -40, hi = 40;

	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;

		if (stats__norm_sf(mid) > p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/*
 * One before/after pair: U of b, its null mean and tie-corrected variance.
 * -EINVAL when a side is empty or everything ties.
 */
static int mwu_pair(const __u64 *a, const __u64 *b, size_t n, double *n1, double *n2, double *u,
		    double *mean, double *var)
{
	double rank_b = 0, below = 0, ties = 0, N;

	*n1 = *n2 = 0;
	for (size_t i = 0; i < n; i++) {
		*n1 += (double)a[i];
		*n2 += (double)b[i];
	}
	N = *n1 + *n2;
	if (*n1 < 1 || *n2 < 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		double t = (double)a[i] + (double)b[i];

		if (!t)
			continue;
		/* every member of a tie group gets the group's average rank */
		rank_b += (double)b[i] * (below + (t + 1) / 2);
		ties += t * t * t - t;
		below += t;
	}
	*mean = *n1 * *n2 / 2;
	*var = *n1 * *n2 / 12 * ((N + 1) - ties / (N * (N - 1)));
	if (!(*var > 0))
		return -EINVAL;
	*u = rank_b - *n2 * (*n2 + 1) / 2;
	return 0;
}

int stats__mann_whitney(const __u64 *a, const __u64 *b, size_t n, struct mwu_result *out)
{
	double mean, var, d;

	if (mwu_pair(a, b, n, &out->n1, &out->n2, &out->u, &mean, &var))
		return -EINVAL;
	out->effect = out->u / (out->n1 * out->n2);
	d = out->u - mean;
	out->z = (d - (d > 0 ? 0.5 : d < 0 ? -0.5 : 0)) / sqrt(var);
	out->p_greater = stats__norm_sf((d - 0.5) / sqrt(var));
	out->p_two_sided = fmin(1, 2 * stats__norm_sf((fabs(d) - 0.5) / sqrt(var)));
	return 0;
}

int stats__van_elteren(const __u64 **a, const __u64 **b, size_t k, size_t n,
		       struct mwu_result *out)
{
	double t = 0, v = 0, pairs = 0;
	size_t used = 0;

	if (k == 1)
		return stats__mann_whitney(a[0], b[0], n, out);
	memset(out, 0, sizeof(*out));
	for (size_t h = 0; h < k; h++) {
		double n1, n2, u, mean, var, w;

		if (mwu_pair(a[h], b[h], n, &n1, &n2, &u, &mean, &var))
			continue;	/* an empty side or all tied: the stratum says nothing */
		w = 1 / (n1 + n2 + 1);
		t += w * (u - mean);
		v += w * w * var;
		out->n1 += n1;
		out->n2 += n2;
		out->u += u;
		pairs += n1 * n2;
		used++;
	}
	if (!used || !(v > 0))
		return -EINVAL;
	out->effect = out->u / pairs;
	out->z = t / sqrt(v);
	out->p_greater = stats__norm_sf(out->z);
	out->p_two_sided = fmin(1, 2 * stats__norm_sf(fabs(out->z)));
	return (int)used;
}

int stats__quantile_bounds_n(const struct lps_hist *h, double n, double q, double conf,
			     double *lo, double *hi)
{
	double z, half, rlo, rhi;

	if (n < 1 || !hist_recorded(h) || q <= 0 || q >= 1 || conf <= 0 || conf >= 1)
		return -EINVAL;
	z = stats__norm_isf((1 - conf) / 2);
	half = z * sqrt(n * q * (1 - q));
	rlo = fmax(1, floor(n * q - half));
	rhi = fmin(n, ceil(n * q + half) + 1);
	*lo = hist_percentile(h, rlo / n);
	*hi = hist_percentile(h, rhi / n);
	return 0;
}

int stats__quantile_bounds(const struct lps_hist *h, double q, double conf, double *lo,
			   double *hi)
{
	return stats__quantile_bounds_n(h, (double)hist_recorded(h), q, conf, lo, hi);
}

/* Past this variance of the count the normal approximation is used: bounded time. */
#define EXACT_MAX_VARIANCE 1e6

double stats__error_rate_p(__u64 e1, __u64 n1, __u64 e2, __u64 n2)
{
	double k = (double)e1 + (double)e2, p, logp, log1p_, sum = 0;

	if (!e2)
		return 1;
	if (!n1 || !n2)
		return 1;	/* no basis for comparison */
	p = (double)n2 / ((double)n1 + (double)n2);
	if (p >= 1)
		return 1;
	/*
	 * Summing term by term takes about the distance to the mode plus a few
	 * standard deviations: with counts in the millions that is too long for
	 * a look (and a crafted verdict file could ask for 2^60), while the
	 * normal approximation is then exact to many digits.
	 */
	if (k * p * (1 - p) > EXACT_MAX_VARIANCE)
		return fmin(1, stats__norm_sf(((double)e2 - 0.5 - k * p) / sqrt(k * p * (1 - p))));
	logp = log(p);
	log1p_ = log1p(-p);
	/* P(X >= e2), summed in log space term by term from the top of the tail */
	for (double x = (double)e2; x <= k; x++) {
		double lt = lgamma(k + 1) - lgamma(x + 1) - lgamma(k - x + 1) + x * logp +
			    (k - x) * log1p_;

		sum += exp(lt);
		/* Past the mode the terms only shrink: stop once they no longer count. */
		if (x > k * p && exp(lt) < sum * 1e-17)
			break;
	}
	return fmin(1, sum);
}

/* Strata whose events add up to at most this are tested exactly (by convolution). */
#define EXACT_MAX_EVENTS 5000

/* P(X_1 + ... + X_k >= s), X_h ~ Binomial(m[h], q[h]), by convolution; -1: no memory. */
static double binomial_sum_tail(const double *m, const double *q, size_t k, double total, double s)
{
	double *dist = calloc((size_t)total + 1, sizeof(*dist)), *next = calloc((size_t)total + 1,
										  sizeof(*next));
	double tail = 0, top = 0;

	if (!dist || !next) {
		free(dist);
		free(next);
		return -1;
	}
	dist[0] = 1;
	for (size_t h = 0; h < k; h++) {
		memset(next, 0, ((size_t)total + 1) * sizeof(*next));
		for (double x = 0; x <= m[h]; x++) {
			double pmf = exp(lgamma(m[h] + 1) - lgamma(x + 1) - lgamma(m[h] - x + 1) +
					 x * log(q[h]) + (m[h] - x) * log1p(-q[h]));

			for (size_t y = 0; y <= (size_t)top; y++)
				next[y + (size_t)x] += dist[y] * pmf;
		}
		top += m[h];
		memcpy(dist, next, ((size_t)total + 1) * sizeof(*dist));
	}
	for (size_t y = (size_t)s; y <= (size_t)top; y++)
		tail += dist[y];
	free(dist);
	free(next);
	return fmin(1, tail);
}

double stats__rate_p_strata(const __u64 *e1, const __u64 *n1, const __u64 *e2, const __u64 *n2,
			    size_t k)
{
	double seen = 0, expect = 0, var = 0, total = 0, m[k ? k : 1], q[k ? k : 1], tail;
	size_t used = 0, last = 0;

	if (k == 1)
		return stats__error_rate_p(e1[0], n1[0], e2[0], n2[0]);
	for (size_t h = 0; h < k; h++) {
		double events = (double)e1[h] + (double)e2[h], p;

		if (!n1[h] || !n2[h] || !events)
			continue;	/* no basis for comparison, or nothing to place */
		p = (double)n2[h] / ((double)n1[h] + (double)n2[h]);
		seen += (double)e2[h];
		expect += events * p;
		var += events * p * (1 - p);
		total += events;
		m[used] = events;
		q[used++] = p;
		last = h;
	}
	if (!seen || !(var > 0))
		return 1;
	/* One host with events: its own exact test, as gate's. */
	if (used == 1)
		return stats__error_rate_p(e1[last], n1[last], e2[last], n2[last]);
	/* Few events: the normal approximation is too kind to a small tail; be exact. */
	if (total <= EXACT_MAX_EVENTS) {
		tail = binomial_sum_tail(m, q, used, total, seen);
		if (tail >= 0)
			return tail;
	}
	return fmin(1, stats__norm_sf((seen - expect - 0.5) / sqrt(var)));
}
