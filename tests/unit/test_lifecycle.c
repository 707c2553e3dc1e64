// SPDX-License-Identifier: GPL-2.0
/*
 * A revert has a bound: our own waits stop at it, and when the kernel holds a
 * call past it the overrun is stated with the call that did not return. Run
 * against a tree laid out like /sys/kernel/livepatch whose patch never goes
 * (the unpatch transition that does not finish).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "unit.h"
#include "clock.h"
#include "klp_control.h"
#include "lifecycle.h"

static void test_overrun_text(void **state)
{
	struct klp_revert_result r = { .elapsed_s = 198, .bound_s = 60,
				       .slow_call = KLP_CALL_UNLOAD, .slow_s = 150 };
	char buf[192];

	(void)state;
	assert_true(klp_revert_result__overrun(&r, buf, sizeof(buf)));
	assert_string_equal(buf, "revert took 198.0 s, over the 60 s bound: delete_module did "
			    "not return for 150.0 s");
	/* Within the slack of our last look: no overrun, nothing said. */
	r.elapsed_s = 60 + KLP_REVERT_SLACK_S;
	assert_false(klp_revert_result__overrun(&r, buf, sizeof(buf)));
	assert_string_equal(buf, "");
	/* Over, and no single call to blame (none blocked): the figures alone. */
	r = (struct klp_revert_result){ .elapsed_s = 61, .bound_s = 60 };
	assert_true(klp_revert_result__overrun(&r, buf, sizeof(buf)));
	assert_string_equal(buf, "revert took 61.0 s, over the 60 s bound");
	assert_string_equal(klp_revert_call__name(KLP_CALL_DISABLE), "writing 0 to enabled");
	/* Our own work past the bound (the stall's stacks) is said as taking time, not blocking. */
	r = (struct klp_revert_result){ .elapsed_s = 2.6, .bound_s = 1, .slow_call = KLP_CALL_STALL,
					.slow_s = 1.5 };
	assert_true(klp_revert_result__overrun(&r, buf, sizeof(buf)));
	assert_string_equal(buf, "revert took 2.6 s, over the 1 s bound: reading the stalled "
			    "tasks' stacks took 1.5 s");
}

static void make_patch(const char *root, const char *name)
{
	char path[512];

	mkdir(root, 0755);
	snprintf(path, sizeof(path), "%s/%s", root, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/enabled", root, name);
	unit__write_file(path, "1\n", 2);
	snprintf(path, sizeof(path), "%s/%s/transition", root, name);
	unit__write_file(path, "0\n", 2);
	snprintf(path, sizeof(path), "%s/%s/force", root, name);
	unit__write_file(path, "0\n", 2);
}

static void test_wait_gone_deadline(void **state)
{
	char root[256];
	double t0;

	(void)state;
	snprintf(root, sizeof(root), "%s/wg", unit_tmpdir);
	make_patch(root, "lp_stuck");
	t0 = clock__now_s();
	assert_int_equal(klp_control__wait_gone(root, "lp_stuck", t0 + 0.3), -ETIMEDOUT);
	assert_true(clock__now_s() - t0 >= 0.3);
	assert_true(clock__now_s() - t0 < 0.3 + KLP_REVERT_SLACK_S);
	/* A deadline already past: one look, no wait. */
	t0 = clock__now_s();
	assert_int_equal(klp_control__wait_gone(root, "lp_stuck", t0 - 5), -ETIMEDOUT);
	assert_true(clock__now_s() - t0 < 0.05);
	assert_int_equal(klp_control__wait_gone(root, "lp_gone", t0 - 5), 0);
}

static void test_revert_bound(void **state)
{
	struct klp_revert_opts o = { .timeout_s = 0.3 };
	struct klp_revert_result r;
	char root[256], why[512];

	(void)state;
	snprintf(root, sizeof(root), "%s/rb", unit_tmpdir);
	make_patch(root, "lp_stuck");
	assert_int_equal(klp_life__revert(root, "lp_stuck", &o, &r), -ETIMEDOUT);
	assert_int_equal(r.failed, KLP_REVERT_WAIT);
	assert_true(r.bound_s == 0.3);
	assert_true(r.elapsed_s >= 0.3 && r.elapsed_s < 0.3 + KLP_REVERT_SLACK_S);
	assert_true(r.elapsed_s - r.calls_s <= 0.3 + KLP_REVERT_SLACK_S);
	assert_false(klp_revert_result__overrun(&r, why, sizeof(why)));
	klp_revert_result__free(&r);
	/* Forced: the forced transition gets the bound once more, and no longer. */
	o.force = true;
	assert_int_equal(klp_life__revert(root, "lp_stuck", &o, &r), -ETIMEDOUT);
	assert_int_equal(r.failed, KLP_REVERT_FORCE);
	assert_true(r.force_written);
	assert_true(r.bound_s == 0.6);
	assert_true(r.elapsed_s >= 0.6 && r.elapsed_s < 0.6 + KLP_REVERT_SLACK_S);
	klp_revert_result__free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overrun_text),
		cmocka_unit_test(test_wait_gone_deadline),
		cmocka_unit_test(test_revert_bound),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
