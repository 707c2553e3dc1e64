// SPDX-License-Identifier: GPL-2.0
/* The judge's decisions, including its false-revert rate on replays of
 * identical distributions (rules files: test_rules.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "judge.h"
#include "rules.h"
#include "unit.h"

/* One gate: a baseline, then looks over a growing observe window. */
static enum verdict replay(double scale, double add_ns, const struct rules_set *s, int *look_out)
{
	struct lps_hist *b = calloc(1, sizeof(*b)), *o = calloc(1, sizeof(*o));
	enum verdict v = VERDICT_PASS;
	const int looks = 10;

	unit__draw(b, 3000, 1, 0);
	for (int k = 1; k <= looks; k++) {
		struct func_judgement j;

		struct func_window wb = { .hist = b }, wo = { .hist = o };

		unit__draw(o, 300, scale, add_ns);
		judge__function(&wb, &wo, s, judge__alpha_for_look(s->alpha, (k - 1.0) / looks,
							      (double)k / looks), &j);
		v = j.verdict;
		*look_out = k;
		if (v == VERDICT_FAIL)
			break;
	}
	free(b);
	free(o);
	return v;
}

static void test_false_reverts_and_catches(void **state)
{
	struct rules_set s;
	int fails = 0, slow_fails = 0, look, first_look_max = 0;
	const int trials = 400;

	(void)state;
	rules__builtin(&s);
	for (int i = 0; i < trials; i++)
		fails += replay(1, 0, &s, &look) == VERDICT_FAIL;
	for (int i = 0; i < trials; i++)
		slow_fails += replay(1.03, 40, &s, &look) == VERDICT_FAIL;	/* ftrace-sized cost */
	print_message("false reverts: %d of %d identical replays, %d of %d with a 3%%+40ns cost\n",
		      fails, trials, slow_fails, trials);
	assert_int_equal(fails, 0);
	assert_int_equal(slow_fails, 0);
	for (int i = 0; i < 50; i++) {
		/* +50 us on a 2.4 us function: out at the first look, every time */
		assert_int_equal(replay(1, 50000, &s, &look), VERDICT_FAIL);
		if (look > first_look_max)
			first_look_max = look;
	}
	assert_int_equal(first_look_max, 1);
}

static void test_error_check(void **state)
{
	struct lps_hist b = { .calls = 5000, .errors = 2 }, o = { .calls = 5000, .errors = 400 };
	struct func_window wb = { .hist = &b }, wo = { .hist = &o };
	struct rules_set s;
	struct func_judgement j;

	(void)state;
	rules__builtin(&s);
	s.latency.enabled = false;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.n, 1);
	assert_string_equal(j.checks[0].check, "errors");
	assert_int_equal(j.verdict, VERDICT_FAIL);
	o.errors = 3;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.verdict, VERDICT_PASS);
	o.calls = 10;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.verdict, VERDICT_INCONCLUSIVE);
}

/* A function first seen patched: no baseline; errors judged against the rule alone. */
static void test_no_baseline(void **state)
{
	struct lps_hist b = { 0 }, o = { .calls = 5000, .errors = 400 };
	struct func_window wb = { .hist = &b, .none = true }, wo = { .hist = &o };
	struct rules_set s;
	struct func_judgement j;

	(void)state;
	rules__builtin(&s);
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.n, 2);
	assert_string_equal(j.checks[0].check, "latency");
	assert_int_equal(j.checks[0].result, VERDICT_INCONCLUSIVE);
	assert_non_null(strstr(j.checks[0].detail, "no baseline"));
	assert_int_equal(j.checks[1].result, VERDICT_FAIL);
	o.errors = 4;	/* below min_errors */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.checks[1].result, VERDICT_PASS);
	o.errors = 100;
	o.calls = 150;	/* below min_calls */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.checks[1].result, VERDICT_INCONCLUSIVE);
}

/* A baseline taken by another attach method: latency not compared, errors still are. */
static void test_incomparable_baseline(void **state)
{
	struct lps_hist b = { .calls = 5000, .errors = 0 }, o = { .calls = 5000, .errors = 400 };
	struct func_window wb = { .hist = &b, .incomparable = "measured with fentry, now kprobe" },
			   wo = { .hist = &o };
	struct rules_set s;
	struct func_judgement j;

	(void)state;
	b.buckets[lps_hist_bucket(5000)] = 5000;
	o.buckets[lps_hist_bucket(500000)] = 5000;	/* 100x slower: still not a latency failure */
	rules__builtin(&s);
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_string_equal(j.checks[0].check, "latency");
	assert_int_equal(j.checks[0].result, VERDICT_INCONCLUSIVE);
	assert_non_null(strstr(j.checks[0].detail, "now kprobe"));
	assert_int_equal(j.checks[1].result, VERDICT_FAIL);
}

/* Lock contention and kernel faults inside a function, with the signals recorded. */
static void test_signal_checks(void **state)
{
	struct lps_hist b = { .calls = 5000 }, o = { .calls = 5000 };
	struct lps_func_signals sb = { .contended = 3, .page_faults = 10 },
				so = { .contended = 900, .contention_ns = 4500000, .page_faults = 12 };
	struct func_window wb = { .hist = &b, .sig = &sb }, wo = { .hist = &o, .sig = &so };
	struct rules_set s;
	struct func_judgement j;

	(void)state;
	rules__builtin(&s);
	s.latency.enabled = s.errors.enabled = false;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.n, 2);
	assert_string_equal(j.checks[0].check, "lock_contention");
	assert_int_equal(j.checks[0].result, VERDICT_FAIL);
	assert_non_null(strstr(j.checks[0].detail, "4.50ms waited"));
	assert_string_equal(j.checks[1].check, "kernel_faults");
	assert_int_equal(j.checks[1].result, VERDICT_PASS);	/* 10 -> 12 page faults */

	so.contended = 10;	/* significant growth, but under min_events (20) */
	so.page_faults = 2000;	/* page faults grow by 0.4 per call: fails */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.checks[0].result, VERDICT_PASS);
	assert_int_equal(j.checks[1].result, VERDICT_FAIL);

	so.page_faults = 12;
	wo.faults = 1;
	wo.fault_line = "WARNING: CPU: 1 PID: 99 at lp.c:10 lp_show+0x1/0x2 [lp]";
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.checks[1].result, VERDICT_FAIL);
	assert_non_null(strstr(j.checks[1].detail, "WARNING: CPU: 1"));

	wo.sig = NULL;		/* no signal probes: those checks are not run */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.n, 0);
}

static void test_system_checks(void **state)
{
	struct lps_func_signals sb = { .contended = 500 }, so = { .contended = 520 };
	struct lps_hist rb = { 0 }, ro = { 0 };
	struct sys_window b = { .seconds = 10, .sig = &sb, .runq = &rb },
			  o = { .seconds = 10, .sig = &so, .runq = &ro };
	struct rules_set s;
	struct func_judgement j;

	(void)state;
	rules__builtin(&s);
	unit__draw(&rb, 3000, 1, 0);
	unit__draw(&ro, 3000, 1, 0);
	judge__system(&b, &o, &s, s.alpha, &j);
	assert_int_equal(j.n, 3);
	assert_string_equal(j.checks[0].check, "lock_contention");
	assert_string_equal(j.checks[1].check, "runqueue_latency");
	assert_string_equal(j.checks[2].check, "kernel_faults");
	assert_int_equal(j.verdict, VERDICT_PASS);

	so.contended = 5000;	/* x10 and 4500 more: fails */
	o.faults = 2;
	o.fault_line = "watchdog: BUG: soft lockup - CPU#0 stuck for 22s!";
	judge__system(&b, &o, &s, s.alpha, &j);
	assert_int_equal(j.checks[0].result, VERDICT_FAIL);
	assert_int_equal(j.checks[2].result, VERDICT_FAIL);
	assert_non_null(strstr(j.checks[2].detail, "soft lockup"));

	o.log_unreadable = true;	/* faults unknown: not a pass */
	judge__system(&b, &o, &s, s.alpha, &j);
	assert_int_equal(j.checks[2].result, VERDICT_INCONCLUSIVE);
	o.log_unreadable = false;

	memset(&ro, 0, sizeof(ro));
	unit__draw(&ro, 3000, 1, 5000000);	/* +5 ms in the run queue */
	judge__system(&b, &o, &s, s.alpha, &j);
	assert_int_equal(j.checks[1].result, VERDICT_FAIL);
}

/*
 * A host whose contention tracepoints see no spinlock (lock_coverage.h): the
 * lock_contention checks say so with their result, pass or fail, and only
 * they; elsewhere they carry no caveat.
 */
static void test_partial_lock_coverage(void **state)
{
	static const char cov[] = "sleeping locks only (mutexes, rwsems): test";
	struct lps_hist b = { .calls = 5000 }, o = { .calls = 5000 };
	struct lps_func_signals fb = { .contended = 3 }, fo = { .contended = 3 };
	struct func_window wb = { .hist = &b, .sig = &fb }, wo = { .hist = &o, .sig = &fo };
	struct lps_func_signals sb = { .contended = 500 }, so = { .contended = 520 };
	struct sys_window ysb = { .seconds = 10, .sig = &sb }, yso = { .seconds = 10, .sig = &so };
	struct rules_set s;
	struct func_judgement j, y;

	(void)state;
	rules__builtin(&s);
	b.buckets[lps_hist_bucket(5000)] = o.buckets[lps_hist_bucket(5000)] = 5000;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	judge__system(&ysb, &yso, &s, s.alpha, &y);
	assert_null(judge__partial(&j, 1, &y));		/* every lock seen: no caveat */

	wo.lock_coverage = yso.lock_coverage = cov;
	judge__function(&wb, &wo, &s, s.alpha, &j);
	judge__system(&ysb, &yso, &s, s.alpha, &y);
	for (size_t k = 0; k < j.n; k++) {
		int lock = !strcmp(j.checks[k].check, "lock_contention");

		assert_int_equal(j.checks[k].result, VERDICT_PASS);
		assert_true(lock ? j.checks[k].coverage == cov : !j.checks[k].coverage);
	}
	assert_string_equal(y.checks[0].check, "lock_contention");
	assert_ptr_equal(y.checks[0].coverage, cov);
	assert_null(y.checks[1].coverage);
	assert_ptr_equal(judge__partial(&j, 1, NULL)->coverage, cov);
	assert_ptr_equal(judge__partial(NULL, 0, &y), &y.checks[0]);

	fo.contended = 900;	/* sleeping locks regressed: a fail is a fail, caveat or not */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	assert_int_equal(j.verdict, VERDICT_FAIL);
	assert_ptr_equal(judge__partial(&j, 1, NULL)->coverage, cov);

	s.lock_contention.enabled = false;	/* no lock check, nothing partial */
	judge__function(&wb, &wo, &s, s.alpha, &j);
	judge__system(&ysb, &yso, &s, s.alpha, &y);
	assert_null(judge__partial(&j, 1, &y));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_baseline),
		cmocka_unit_test(test_incomparable_baseline),
		cmocka_unit_test(test_signal_checks),
		cmocka_unit_test(test_system_checks),
		cmocka_unit_test(test_partial_lock_coverage),
		cmocka_unit_test(test_false_reverts_and_catches),
		cmocka_unit_test(test_error_check),
	};

	return cmocka_run_group_tests_name("judge", tests, NULL, NULL);
}
