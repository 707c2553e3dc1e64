// SPDX-License-Identifier: GPL-2.0
/*
 * What gate and inspect decide for each function a patch replaces, on
 * synthetic kallsyms and available_filter_functions tables (the layouts the
 * lab guests show: __x64_sys_getpid, __ia32_sys_getpid and __do_sys_getpid at
 * one address, ftrace listing only __do_sys_getpid, on 6.1 and 6.12 alike).
 */
#include <string.h>
#include "unit.h"
#include "targets.h"

static const char kallsyms[] =
	"ffffffff810eae70 T __pfx___x64_sys_getpid\n"
	"ffffffff810eae80 t __do_sys_getpid\n"
	"ffffffff810eae80 T __ia32_sys_getpid\n"
	"ffffffff810eae80 T __x64_sys_getpid\n"
	"ffffffff81100000 T cmdline_proc_show\n"
	"ffffffff81200000 t dup_fn\n"
	"ffffffff81200100 t dup_fn\n"
	"ffffffff81300000 t notrace_fn\n"
	"ffffffff81400000 T shared_fn\n"
	"ffffffff81500000 D some_data\n"
	"ffffffffc0000000 t modfn\t[lps_busy]\n"
	"ffffffffc0000200 t shared_fn\t[lps_busy]\n";

static const char ftrace[] =
	"__do_sys_getpid\n"
	"cmdline_proc_show\n"
	"dup_fn\n"
	"dup_fn\n"
	"shared_fn\n"
	"modfn [lps_busy]\n"
	"shared_fn [lps_busy]\n";

static struct name_table *load(const char *name, const char *text, bool is_kallsyms)
{
	struct name_table *t = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	unit__write_file(path, text, strlen(text));
	assert_int_equal(name_table__load_file(path, is_kallsyms, &t), 0);
	return t;
}

static void resolve(struct name_table *k, const struct name_table *f, const char *obj,
		    const char *fn, unsigned long sympos, struct target_res *r)
{
	struct klp_target t = { .object = (char *)obj, .function = (char *)fn, .sympos = sympos,
				.replacement = (char *)"new" };

	target__resolve(&t, k, f, r);
}

static void expect(const struct target_res *r, enum target_state s, const char *why_has)
{
	if (r->state != s || (why_has && !strstr(r->why, why_has))) {
		print_error("got %s (%s), want %s (%s)\n", target_state__name(r->state), r->why,
			    target_state__name(s), why_has ? why_has : "-");
		fail();
	}
}

static void test_resolve(void **state)
{
	struct name_table *k = load("kallsyms", kallsyms, true), *f = load("ftrace", ftrace, false);
	struct target_res r;

	(void)state;
	/* the syscall wrapper: traced under the name ftrace lists at its address */
	resolve(k, f, "vmlinux", "__x64_sys_getpid", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_true(r.alias);
	assert_string_equal(r.probe, "__do_sys_getpid");
	assert_false(r.kprobe_only);
	assert_int_equal(r.addr, 0);

	resolve(k, f, "vmlinux", "cmdline_proc_show", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_false(r.alias);
	assert_string_equal(r.probe, "cmdline_proc_show");

	/* what the kernel refuses stays an error */
	resolve(k, f, "vmlinux", "no_such_fn", 0, &r);
	expect(&r, TARGET_INVALID, "unknown function");
	resolve(k, f, "vmlinux", "some_data", 0, &r);
	expect(&r, TARGET_INVALID, "unknown function");
	resolve(k, f, "vmlinux", "dup_fn", 0, &r);
	expect(&r, TARGET_INVALID, "ambiguous");
	resolve(k, f, "vmlinux", "dup_fn", 3, &r);
	expect(&r, TARGET_INVALID, "sympos 3");
	resolve(k, f, "lps_busy", "no_such_fn", 0, &r);
	expect(&r, TARGET_INVALID, "for module lps_busy");

	/* sympos: the nth symbol in kallsyms order, kprobes at its address */
	resolve(k, f, "vmlinux", "dup_fn", 2, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_true(r.kprobe_only);
	assert_int_equal(r.addr, 0xffffffff81200100ULL);
	resolve(k, f, "vmlinux", "dup_fn", 1, &r);
	assert_int_equal(r.addr, 0xffffffff81200000ULL);

	/* no traceable name at its address: not measured, the patch still judged */
	resolve(k, f, "vmlinux", "notrace_fn", 0, &r);
	expect(&r, TARGET_NOT_MEASURED, "not traceable");

	/* a loaded module's function: kprobes (no trampoline pins the module) */
	resolve(k, f, "lps_busy", "modfn", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_true(r.kprobe_only);
	assert_int_equal(r.addr, 0);
	assert_string_equal(r.module, "lps_busy");
	/* a name vmlinux has too: by address */
	resolve(k, f, "lps_busy", "shared_fn", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_int_equal(r.addr, 0xffffffffc0000200ULL);
	resolve(k, f, "vmlinux", "shared_fn", 0, &r);
	assert_int_equal(r.addr, 0xffffffff81400000ULL);
	assert_true(r.kprobe_only);

	/* a module not loaded: the kernel patches it when it arrives */
	resolve(k, f, "lps_absent", "absent_fn", 0, &r);
	expect(&r, TARGET_NOT_MEASURED, "module lps_absent is not loaded");

	/* no ftrace list: every existing function taken as traceable, as named */
	resolve(k, NULL, "vmlinux", "__x64_sys_getpid", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	assert_false(r.alias);
	/* no kallsyms: unknown */
	resolve(NULL, f, "vmlinux", "cmdline_proc_show", 0, &r);
	expect(&r, TARGET_UNKNOWN, NULL);
	name_table__free(k);
	name_table__free(f);
}

/* kallsyms read without root: addresses 0, so no alias can be found, and that is said. */
static void test_hidden_addresses(void **state)
{
	char hidden[sizeof(kallsyms)];
	struct name_table *k, *f = load("ftrace2", ftrace, false);
	struct target_res r;

	(void)state;
	memcpy(hidden, kallsyms, sizeof(kallsyms));
	for (char *p = hidden; *p; p = strchr(p, '\n') + 1)
		memset(p, '0', 16);
	k = load("kallsyms2", hidden, true);
	resolve(k, f, "vmlinux", "__x64_sys_getpid", 0, &r);
	expect(&r, TARGET_NOT_MEASURED, "hides addresses");
	resolve(k, f, "vmlinux", "dup_fn", 2, &r);
	expect(&r, TARGET_NOT_MEASURED, "hides their addresses");
	resolve(k, f, "vmlinux", "cmdline_proc_show", 0, &r);
	expect(&r, TARGET_MEASURED, NULL);
	name_table__free(k);
	name_table__free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_hidden_addresses),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
