/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the unit tests share: cmocka, a scratch directory for a test group,
 * and whole files read and written (asserted, so a test stops where it fails).
 */
#ifndef LPS_UNIT_H
#define LPS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <math.h>
#include <linux/types.h>
#include "lpsentinel.h"

/*
 * Replays of the judge: a xorshift generator (the test seeds unit_rng, so
 * each test draws the same numbers every run) and latencies drawn lognormal
 * around 2.4 us.
 */
static __u64 unit_rng __attribute__((unused)) = 88172645463325252ULL;

static inline double unit__unif(void)
{
	unit_rng ^= unit_rng << 13;
	unit_rng ^= unit_rng >> 7;
	unit_rng ^= unit_rng << 17;
	return (double)(unit_rng >> 11) / 9007199254740992.0 + 1e-18;
}

/* n calls into h: scale times a lognormal latency (median 2.4 us), plus add_ns. */
static inline void unit__draw(struct lps_hist *h, size_t n, double scale, double add_ns)
{
	for (size_t i = 0; i < n; i++) {
		double z = sqrt(-2 * log(unit__unif())) * cos(2 * M_PI * unit__unif());
		__u64 v = (__u64)(scale * exp(7.8 + 0.5 * z) + add_ns);

		h->buckets[lps_hist_bucket(v)]++;
		h->calls++;
		h->sum_ns += v;
		if (v > h->max_ns)
			h->max_ns = v;
	}
}

/*
 * The group's scratch directory, /tmp/lps-unit-XXXXXX: made by
 * unit__tmpdir_setup and removed with all in it by unit__tmpdir_teardown, as
 * the group's setup and teardown.
 */
static char unit_tmpdir[64] __attribute__((unused));

static inline int unit__tmpdir_setup(void **state)
{
	(void)state;
	snprintf(unit_tmpdir, sizeof(unit_tmpdir), "/tmp/lps-unit-XXXXXX");
	return mkdtemp(unit_tmpdir) ? 0 : -1;
}

static inline int unit__tmpdir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The whole of path, malloc'd; its length into *len. */
static inline void *unit__read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* path made to hold len bytes of buf, and nothing else. */
static inline void unit__write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

#endif
