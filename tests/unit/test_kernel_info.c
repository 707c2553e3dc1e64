// SPDX-License-Identifier: GPL-2.0
/* Symbol tables, BTF return-type classification and livepatch sysfs lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include "func_btf.h"
#include "klp_sysfs.h"
#include "ksyms.h"
#include "lpsentinel.h"

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_kallsyms_table(void **state)
{
	struct name_table *t = NULL;
	const char *mod = "x";
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/kallsyms", tmpdir);
	write_file(path,
		   "ffffffff81000000 T _stext\n"
		   "ffffffff81001000 t version_proc_show\n"
		   "ffffffff81002000 D some_data\n"
		   "ffffffff81003000 t dup_fn\n"
		   "ffffffff81004000 t dup_fn\n"
		   "ffffffffc0001000 t lps_fail_check\t[lps_fail]\n"
		   "garbage\n"
		   "\n");
	assert_int_equal(name_table__load_file(path, true, &t), 0);
	assert_int_equal(name_table__count(t, "version_proc_show", &mod), 1);
	assert_null(mod);
	assert_int_equal(name_table__count(t, "some_data", NULL), 0);	/* not text */
	assert_int_equal(name_table__count(t, "dup_fn", NULL), 2);
	assert_int_equal(name_table__count(t, "lps_fail_check", &mod), 1);
	assert_string_equal(mod, "lps_fail");
	assert_int_equal(name_table__count(t, "nope", NULL), 0);
	name_table__free(t);
	assert_int_equal(name_table__load_file("/nonexistent/kallsyms", true, &t), -ENOENT);
}

static void test_ftrace_table(void **state)
{
	struct name_table *t = NULL;
	const char *mod = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/aff", tmpdir);
	write_file(path, "version_proc_show\nlps_fail_check [lps_fail]\n");
	assert_int_equal(name_table__load_file(path, false, &t), 0);
	assert_int_equal(name_table__count(t, "version_proc_show", NULL), 1);
	assert_int_equal(name_table__count(t, "lps_fail_check", &mod), 1);
	assert_string_equal(mod, "lps_fail");
	name_table__free(t);
}

static void test_btf_return_kinds(void **state)
{
	struct btf *btf = btf__new_empty();
	int i32, u32, i64, boolt, chr, ptr, td, cnst, st;
	struct { const char *name; int ret; __u32 want; } cases[6];

	(void)state;
	assert_non_null(btf);
	i32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	i64 = btf__add_int(btf, "long", 8, BTF_INT_SIGNED);
	boolt = btf__add_int(btf, "_Bool", 1, BTF_INT_BOOL);
	chr = btf__add_int(btf, "char", 1, BTF_INT_SIGNED);
	st = btf__add_struct(btf, "file", 0);
	ptr = btf__add_ptr(btf, st);
	td = btf__add_typedef(btf, "ssize_t", i64);
	cnst = btf__add_const(btf, td);	/* qualifiers and typedefs are looked through */
	(void)u32;
	cases[0] = (typeof(cases[0])){ "f_int", i32, LPS_RET_INT32 };
	cases[1] = (typeof(cases[0])){ "f_ssize", cnst, LPS_RET_INT64 };
	cases[2] = (typeof(cases[0])){ "f_ptr", ptr, LPS_RET_PTR };
	cases[3] = (typeof(cases[0])){ "f_void", 0, LPS_RET_VOID };
	cases[4] = (typeof(cases[0])){ "f_bool", boolt, LPS_RET_NEVER };
	cases[5] = (typeof(cases[0])){ "f_char", chr, LPS_RET_NEVER };
	for (size_t k = 0; k < 6; k++) {
		int proto = btf__add_func_proto(btf, cases[k].ret);
		int fn;

		assert_true(proto > 0);
		assert_int_equal(btf__add_func_param(btf, "x", i32), 0);
		fn = btf__add_func(btf, cases[k].name, BTF_FUNC_GLOBAL, proto);
		assert_true(fn > 0);
		assert_int_equal(func_btf__kind_of(btf, fn), cases[k].want);
	}
	/* Not a function at all. */
	assert_int_equal(func_btf__kind_of(btf, i32), LPS_RET_UNKNOWN);
	btf__free(btf);
}

static void test_klp_sysfs_is_patched(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/lp/patch_a/vmlinux/cmdline_proc_show,1", tmpdir);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/lp/patch_a/enabled", tmpdir);
	write_file(path, "1\n");
	snprintf(path, sizeof(path), "%s/lp", tmpdir);
	assert_true(klp_sysfs__is_patched(path, "cmdline_proc_show"));
	assert_false(klp_sysfs__is_patched(path, "cmdline_proc"));	/* prefix only */
	assert_false(klp_sysfs__is_patched(path, "version_proc_show"));
	assert_false(klp_sysfs__is_patched("/nonexistent", "cmdline_proc_show"));
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lps-unit-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kallsyms_table),
		cmocka_unit_test(test_ftrace_table),
		cmocka_unit_test(test_btf_return_kinds),
		cmocka_unit_test(test_klp_sysfs_is_patched),
	};

	return cmocka_run_group_tests_name("kernel_info", tests, setup, teardown);
}
