// SPDX-License-Identifier: GPL-2.0
/*
 * What lpsentinel reads of livepatch state in sysfs and /proc is named by
 * modules and tasks: patch, object and function directory names, a task's
 * comm, its kernel stack. Read here from trees laid out like the kernel's,
 * with names no printer may pass through: they come back escaped.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "klp_sysfs.h"
#include "klp_tasks.h"

static void mkdirs(const char *fmt, const char *a, const char *b, const char *c)
{
	char path[512], cmd[600];

	snprintf(path, sizeof(path), fmt, unit_tmpdir, a, b, c);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *text, const char *fmt, const char *a, const char *b, const char *c)
{
	char path[512];

	snprintf(path, sizeof(path), fmt, unit_tmpdir, a, b, c);
	unit__write_file(path, text, strlen(text));
}

static void assert_printable(const char *s)
{
	for (; *s; s++)
		if (*s != '\n' && ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)) {
			print_error("byte 0x%02x passed through\n", (unsigned char)*s);
			fail();
		}
}

/* An empty /sys/kernel/livepatch: no patch, and no qsort of nothing (UBSan). */
static void test_empty(void **state)
{
	struct klp_patch_list l;
	char root[256];

	(void)state;
	mkdirs("%s/empty%s%s%s", "", "", "");
	snprintf(root, sizeof(root), "%s/empty", unit_tmpdir);
	assert_int_equal(klp_sysfs__list(root, &l), 0);
	assert_int_equal(l.n, 0);
	klp_patch_list__free(&l);
}

static void test_sysfs_names(void **state)
{
	const char *fn = "evil\n  vmlinux        forged_row,1", *obj = "lps\x1b[2Jbusy";
	struct klp_patch_list l;
	char root[256];

	(void)state;
	mkdirs("%s/lp/%s/%s/%s", "lp_x", obj, fn);
	mkdirs("%s/lp/%s/%s/%s", "lp_x", "vmlinux", "cmdline_proc_show,0");
	put("1\n", "%s/lp/%s/enabled%s%s", "lp_x", "", "");
	put("0\n", "%s/lp/%s/transition%s%s", "lp_x", "", "");
	snprintf(root, sizeof(root), "%s/lp", unit_tmpdir);
	assert_int_equal(klp_sysfs__list(root, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].nobjs, 2);
	for (size_t o = 0; o < l.v[0].nobjs; o++) {
		assert_printable(l.v[0].objs[o].name);
		for (size_t f = 0; f < l.v[0].objs[o].nfuncs; f++)
			assert_printable(l.v[0].objs[o].funcs[f].name);
	}
	/* sorted: "lps\x1b..." before "vmlinux"; a valid name is unchanged */
	assert_string_equal(l.v[0].objs[0].name, "lps\\x1b[2Jbusy");
	assert_string_equal(l.v[0].objs[0].funcs[0].name, "evil\\x0a  vmlinux        forged_row");
	assert_string_equal(l.v[0].objs[1].funcs[0].name, "cmdline_proc_show");
	klp_patch_list__free(&l);
}

/* A stalled transition's blockers: comm and stack are the task's and modules' words. */
static void test_blockers(void **state)
{
	struct klp_blocker *b;
	char proc[256];
	size_t n;

	(void)state;
	mkdirs("%s/proc/%s/task/%s%s", "42", "42", "");
	mkdirs("%s/proc/%s/task/%s%s", "43", "43", "");
	put("0\n", "%s/proc/%s/task/%s/patch_state", "42", "42", "");
	put("evil\x1b]0;x\x07\n", "%s/proc/%s/task/%s/comm", "42", "42", "");
	put("[<0>] lps_busy_park+0x1/0x2 [lps\x1b[1mbusy]\n[<0>] do_syscall_64+0x3b/0x90\n",
	    "%s/proc/%s/task/%s/stack", "42", "42", "");
	put("1\n", "%s/proc/%s/task/%s/patch_state", "43", "43", "");	/* already there */
	snprintf(proc, sizeof(proc), "%s/proc", unit_tmpdir);
	assert_int_equal(klp_tasks__blockers(proc, 1, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].pid, 42);
	assert_string_equal(b[0].comm, "evil\\x1b]0;x\\x07");
	assert_string_equal(b[0].stack, "[<0>] lps_busy_park+0x1/0x2 [lps\\x1b[1mbusy]\n"
			    "[<0>] do_syscall_64+0x3b/0x90\n");
	klp_blockers__free(b, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sysfs_names),
		cmocka_unit_test(test_blockers),
	};

	return cmocka_run_group_tests_name("klp_sysfs", tests, unit__tmpdir_setup,
					   unit__tmpdir_teardown);
}
