// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon's rolling baselines and its /metrics page: the newest tick
 * is left out of a baseline, the state file's baseline stands in while the
 * ring is thin, a frozen baseline holds while patches are judged; the page
 * passes `promtool check metrics` and its histogram buckets add up.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "hist.h"
#include "watch.h"

/* One tick of calls calls of ns each, pushed as the daemon pushes a probe read. */
static void tick(struct watch_fn *fn, __u64 calls, __u64 ns)
{
	struct lps_hist h = fn->cum;

	h.calls += calls;
	h.buckets[lps_hist_bucket(ns)] += calls;
	h.sum_ns += calls * ns;
	if (ns > h.max_ns)
		h.max_ns = ns;
	watch_fn__push(fn, &h, 1.0);
}

static void make_fn(struct watch_fn *fn, const char *name, size_t len)
{
	assert_int_equal(watch_fn__init(fn, name, len), 0);
}

static void init_watch(struct watch *w, struct watch_fn *fns, size_t n)
{
	memset(w, 0, sizeof(*w));
	rules__builtin(&w->def);
	w->def.min_calls = 200;
	w->tick_s = 1;
	w->fns = fns;
	w->nfns = n;
	w->sc.stats_fd = -EBADF;
}

static void test_rolling_baseline(void **state)
{
	struct watch_fn fn;
	struct watch w;
	struct lps_hist b;
	double s;

	(void)state;
	make_fn(&fn, "version_proc_show", 5);
	init_watch(&w, &fn, 1);
	assert_false(watch__baseline(&w, &fn, &b, &s));
	tick(&fn, 100, 5000);
	/* One tick: the newest, left out (the patch may already have run in it). */
	assert_false(watch__baseline(&w, &fn, &b, &s));
	tick(&fn, 100, 5000);
	tick(&fn, 100, 5000);
	assert_true(watch__baseline(&w, &fn, &b, &s));
	assert_int_equal(b.calls, 200);
	assert_true(s == 2.0);
	/* The ring rolls: 5 slots, 4 counted, the oldest ticks drop out. */
	for (int k = 0; k < 6; k++)
		tick(&fn, 10 * (k + 1), 7000);
	assert_true(watch__baseline(&w, &fn, &b, &s));
	assert_int_equal(b.calls, 20 + 30 + 40 + 50);
	/* Thin ring: the saved baseline stands in. */
	fn.saved.calls = 5000;
	fn.have_saved = true;
	fn.saved_s = 10;
	assert_true(watch__baseline(&w, &fn, &b, &s));
	assert_int_equal(b.calls, 5000);
	assert_true(s == 10);
	/* Frozen while judged, whatever the ring does meanwhile. */
	fn.frozen.calls = 1234;
	fn.frozen_s = 4;
	fn.judging = 2;
	tick(&fn, 999, 100000);
	assert_true(watch__baseline(&w, &fn, &b, &s));
	assert_int_equal(b.calls, 1234);
	fn.frozen_none = true;
	assert_false(watch__baseline(&w, &fn, &b, &s));
	free(fn.ring);
	free(fn.ring_s);
}

static void test_metrics_page(void **state)
{
	struct watch_fn fns[2];
	struct watch_patch patches[2] = {
		{ .name = "lp_gate_slow", .state = PATCH_REVERTED, .verdict = VERDICT_FAIL, .judged = true, .at = 1764000000 },
		{ .name = "lp_gate_ok", .state = PATCH_OBSERVING, .at = 1764000100 },
	};
	struct watch w;
	char path[] = "/tmp/lps-metrics-XXXXXX", cmd[256], *page;
	size_t len;
	FILE *f;
	int fd;

	(void)state;
	make_fn(&fns[0], "version_proc_show", 11);
	make_fn(&fns[1], "odd\"name\\x", 11);	/* label escaping */
	for (int k = 0; k < 8; k++) {
		tick(&fns[0], 300, 5000 + 100 * k);
		tick(&fns[1], 50, 3000000);
	}
	init_watch(&w, fns, 2);
	w.patches = patches;
	w.npatches = 2;
	w.verdicts[VERDICT_FAIL] = 1;
	w.reverts = 1;
	page = metrics__render(&w, &len);
	assert_non_null(page);
	assert_int_equal(strlen(page), len);
	/* Buckets are cumulative and +Inf is the count. */
	assert_non_null(strstr(page, "lpsentinel_function_latency_seconds_bucket{function=\"version_proc_show\",le=\"+Inf\"} 2400\n"));
	assert_non_null(strstr(page, "lpsentinel_function_latency_seconds_count{function=\"version_proc_show\"} 2400\n"));
	assert_non_null(strstr(page, "lpsentinel_function_latency_seconds_bucket{function=\"odd\\\"name\\\\x\",le=\"0.004194304\"} 400\n"));
	assert_non_null(strstr(page, "lpsentinel_function_latency_seconds_bucket{function=\"odd\\\"name\\\\x\",le=\"0.002097152\"} 0\n"));
	assert_non_null(strstr(page, "lpsentinel_patch_state{patch=\"lp_gate_slow\",state=\"reverted\"} 1\n"));
	assert_non_null(strstr(page, "lpsentinel_patch_verdict{patch=\"lp_gate_slow\",verdict=\"fail\"} 1\n"));
	assert_null(strstr(page, "lpsentinel_patch_verdict{patch=\"lp_gate_ok\""));
	assert_non_null(strstr(page, "lpsentinel_reverts_total 1\n"));
	/* promtool: families declared, types, names and values as the format wants. */
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(page, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	free(page);
	for (int i = 0; i < 2; i++) {
		free(fns[i].ring);
		free(fns[i].ring_s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rolling_baseline),
		cmocka_unit_test(test_metrics_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
