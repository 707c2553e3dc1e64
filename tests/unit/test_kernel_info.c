// SPDX-License-Identifier: GPL-2.0
/* Symbol tables, BTF return-type classification and livepatch sysfs lookups. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include <bpf/btf.h>
#include "func_btf.h"
#include "klp_sysfs.h"
#include "klp_tasks.h"
#include "klp_watch.h"
#include "ksyms.h"
#include "lpsentinel.h"

static void write_file(const char *path, const char *text)
{
	unit__write_file(path, text, strlen(text));
}

static void test_kallsyms_table(void **state)
{
	struct name_table *t = NULL;
	const char *mod = "x";
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/kallsyms", unit_tmpdir);
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
	/* addresses to names, as for lock callers' stacks */
	assert_string_equal(name_table__at(t, 0xffffffff81001234ull, NULL), "version_proc_show");
	assert_string_equal(name_table__at(t, 0xffffffff81002000ull, NULL), "version_proc_show"); /* data skipped */
	assert_string_equal(name_table__at(t, 0xffffffffc0001010ull, &mod), "lps_fail_check");
	assert_string_equal(mod, "lps_fail");
	assert_null(name_table__at(t, 0xffffffff80000000ull, NULL));
	name_table__free(t);
	assert_int_equal(name_table__load_file("/nonexistent/kallsyms", true, &t), -ENOENT);
}

static void test_ftrace_table(void **state)
{
	struct name_table *t = NULL;
	const char *mod = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/aff", unit_tmpdir);
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
	snprintf(path, sizeof(path), "%s/lp/patch_a/vmlinux/cmdline_proc_show,1", unit_tmpdir);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/lp/patch_a/enabled", unit_tmpdir);
	write_file(path, "1\n");
	snprintf(path, sizeof(path), "%s/lp", unit_tmpdir);
	assert_true(klp_sysfs__is_patched(path, "cmdline_proc_show"));
	assert_false(klp_sysfs__is_patched(path, "cmdline_proc"));	/* prefix only */
	assert_false(klp_sysfs__is_patched(path, "version_proc_show"));
	assert_false(klp_sysfs__is_patched("/nonexistent", "cmdline_proc_show"));
}

/* mkdir -p for a path under unit_tmpdir */
static void mkpath(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, rel);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, rel);
	write_file(path, text);
}

static void test_klp_sysfs_list(void **state)
{
	struct klp_patch_list l;
	char root[256], mods[256];

	(void)state;
	/* 6.12-like: replace attribute; 6.1-like: none. One stalled transition. */
	mkpath("ls/lp_b/vmlinux/uptime_proc_show,1");
	mkpath("ls/lp_b/vmlinux/version_proc_show,1");
	put("ls/lp_b/enabled", "1\n");
	put("ls/lp_b/transition", "1\n");
	put("ls/lp_b/replace", "1\n");
	put("ls/lp_b/vmlinux/patched", "1\n");
	mkpath("ls/lp_a/lps_busy/lps_busy_park,2");
	put("ls/lp_a/enabled", "1\n");
	put("ls/lp_a/transition", "0\n");
	mkpath("ls/not_a_patch_dir");	/* no enabled: vanished mid-read */
	snprintf(root, sizeof(root), "%s/ls", unit_tmpdir);
	assert_int_equal(klp_sysfs__list(root, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "lp_a");
	assert_int_equal(l.v[0].replace, -1);
	assert_int_equal(l.v[0].objs[0].patched, -1);
	assert_string_equal(l.v[0].objs[0].name, "lps_busy");
	assert_string_equal(l.v[0].objs[0].funcs[0].name, "lps_busy_park");
	assert_int_equal(l.v[0].objs[0].funcs[0].sympos, 2);
	assert_int_equal(l.v[1].transition, 1);
	assert_int_equal(l.v[1].replace, 1);
	assert_int_equal(l.v[1].objs[0].nfuncs, 2);
	assert_true(klp_patch_entry__has_func(&l.v[1], "version_proc_show"));
	assert_false(klp_patch_entry__has_func(&l.v[1], "lps_busy_park"));

	/* Stack order from the module list, newest first. */
	put("modules", "lp_b 16384 1 - Live 0x0 (OEK)\nxfs 1 0 - Live 0x0\nlp_a 16384 1 - Live 0x0 (OEK)\n");
	snprintf(mods, sizeof(mods), "%s/modules", unit_tmpdir);
	klp_sysfs__fill_stack_order(&l, mods);
	assert_int_equal(l.v[1].stack_order, 2);	/* lp_b, loaded last */
	assert_int_equal(l.v[0].stack_order, 1);
	klp_patch_list__free(&l);
	/* One patch read alone (a stall report) gets the order the list gives it. */
	{
		struct klp_patch_entry p;

		assert_int_equal(klp_sysfs__read_patch(root, "lp_a", &p), 0);
		assert_int_equal(p.stack_order, -1);
		klp_sysfs__fill_patch_stack_order(root, &p, mods);
		assert_int_equal(p.stack_order, 1);
		klp_patch_entry__free(&p);
	}
	assert_int_equal(klp_sysfs__list("/nonexistent", &l), -ENOENT);
}

static void test_active_patch(void **state)
{
	struct klp_func_entry f = { .name = "cmdline_proc_show", .sympos = 1 };
	struct klp_object_entry o = { .name = "vmlinux", .funcs = &f, .nfuncs = 1 };
	struct klp_patch_entry p[3] = {
		{ .name = "lp_old", .enabled = 1, .stack_order = 1, .objs = &o, .nobjs = 1 },
		{ .name = "lp_new", .enabled = 1, .stack_order = 2, .objs = &o, .nobjs = 1 },
		{ .name = "lp_moving", .enabled = 1, .transition = 1, .stack_order = 3,
		  .objs = &o, .nobjs = 1 },
	};
	struct klp_patch_list l = { .v = p, .n = 3 };

	(void)state;
	/* Top of the stack wins; a patch still in transition is not live yet. */
	assert_string_equal(klp_watch__active_for(&l, "cmdline_proc_show")->name, "lp_new");
	assert_null(klp_watch__active_for(&l, "version_proc_show"));
	p[1].enabled = 0;
	assert_string_equal(klp_watch__active_for(&l, "cmdline_proc_show")->name, "lp_old");
}

static void test_blockers(void **state)
{
	struct klp_blocker *b;
	char proc[256];
	size_t n;

	(void)state;
	/* pid 10: one thread unpatched (blocks patching), one patched; pid 11 idle. */
	mkpath("proc/10/task/10");
	put("proc/10/task/10/patch_state", "0\n");
	put("proc/10/task/10/comm", "parked\n");
	put("proc/10/task/10/stack", "[<0>] msleep+0x2d/0x40\n[<0>] lps_busy_park+0x1e/0x30 [lps_busy]\n");
	mkpath("proc/10/task/12");
	put("proc/10/task/12/patch_state", "1\n");
	mkpath("proc/11/task/11");
	put("proc/11/task/11/patch_state", "-1\n");
	mkpath("proc/self");	/* not a pid */
	snprintf(proc, sizeof(proc), "%s/proc", unit_tmpdir);
	assert_int_equal(klp_tasks__blockers(proc, 1, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].pid, 10);
	assert_int_equal(b[0].tid, 10);
	assert_string_equal(b[0].comm, "parked");
	assert_non_null(strstr(b[0].stack, "lps_busy_park"));
	klp_blockers__free(b, n);
	/* Unpatching: the patched thread is the one holding it up. */
	assert_int_equal(klp_tasks__blockers(proc, 0, &b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(b[0].tid, 12);
	klp_blockers__free(b, n);
}

static void test_patch_name(void **state)
{
	char out[64];

	(void)state;
	klp_patch_name("/lib/modules/x/livepatch-fix-1.ko", out, sizeof(out));
	assert_string_equal(out, "livepatch_fix_1");
	klp_patch_name("lp_cmdline", out, sizeof(out));
	assert_string_equal(out, "lp_cmdline");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kallsyms_table),
		cmocka_unit_test(test_ftrace_table),
		cmocka_unit_test(test_btf_return_kinds),
		cmocka_unit_test(test_klp_sysfs_is_patched),
		cmocka_unit_test(test_klp_sysfs_list),
		cmocka_unit_test(test_active_patch),
		cmocka_unit_test(test_blockers),
		cmocka_unit_test(test_patch_name),
	};

	return cmocka_run_group_tests_name("kernel_info", tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
