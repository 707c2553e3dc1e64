// SPDX-License-Identifier: GPL-2.0
/* Module parameters for a patch module: what passes to finit_module, and what is refused. */
#include <errno.h>
#include <string.h>
#include "unit.h"
#include "klp_params.h"

static void test_check(void **state)
{
	static const char *const good[] = { "replace=1", "a=", "hook_name=x,y", "x-y=-1",
					    "n=0x10", "s=a:b/c" };
	static const char *const bad[] = { "replace", "=1", "a b=1", "a=1 b=2", "a=\"x y\"",
					   "a='x'", "a=\n", "a=\x7f", "na\xc3\xa9=1", "a.b=1",
					   "" };
	char why[256], name[KLP_PARAM_NAME_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (klp_params__check(good[i], why, sizeof(why)))
			fail_msg("refused %s: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (klp_params__check(bad[i], why, sizeof(why)) != -EINVAL || !why[0] ||
		    strchr(why, '\n'))
			fail_msg("accepted (or said in more than one line): %s", bad[i]);
	}
	memset(name, 'a', KLP_PARAM_NAME_MAX + 1);
	strcpy(name + KLP_PARAM_NAME_MAX + 1, "=1");
	assert_int_equal(klp_params__check(name, why, sizeof(why)), -EINVAL);
	strcpy(name + KLP_PARAM_NAME_MAX, "=1");
	assert_int_equal(klp_params__check(name, why, sizeof(why)), 0);
}

static void test_join(void **state)
{
	const char *two[] = { "replace=1", "x=2" }, *one_bad[] = { "replace=1", "oops" };
	const char *many[200];
	char out[KLP_PARAMS_MAX], why[256], item[16];

	(void)state;
	assert_int_equal(klp_params__join(NULL, 0, out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "");
	assert_int_equal(klp_params__join(two, 2, out, sizeof(out), why, sizeof(why)), 0);
	assert_string_equal(out, "replace=1 x=2");
	assert_int_equal(klp_params__join(one_bad, 2, out, sizeof(out), why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "\"oops\""));
	/* Past KLP_PARAMS_MAX in all: refused, never cut short. */
	snprintf(item, sizeof(item), "p=1234567");
	for (size_t i = 0; i < 200; i++)
		many[i] = item;
	assert_int_equal(klp_params__join(many, 200, out, sizeof(out), why, sizeof(why)), -E2BIG);
	assert_int_equal(klp_params__join(many, 102, out, sizeof(out), why, sizeof(why)), 0);
	assert_int_equal(strlen(out), 102 * 10 - 1);
	assert_int_equal(klp_params__join(many, 103, out, sizeof(out), why, sizeof(why)), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
