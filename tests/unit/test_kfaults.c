// SPDX-License-Identifier: GPL-2.0
/* Kernel log fault reports: openings recognised, call traces read, faults pinned on names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "kfaults.h"

/* A log fed the records, NULL after the last, one by one; it found nfaults. */
static struct kfault_log fed(const char *const *recs, size_t nfaults)
{
	struct kfault_log l = { 0 };

	for (size_t i = 0; recs[i]; i++)
		assert_int_equal(kfault_log__feed(&l, recs[i]), 0);
	assert_int_equal(l.n, nfaults);
	return l;
}

/* A log fed the records holds faults of these kinds, in order (NULL after the last). */
static void assert_kinds(const char *const *recs, const char *const *kinds)
{
	size_t n = 0;
	struct kfault_log l;

	while (kinds[n])
		n++;
	l = fed(recs, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l.v[i].kind, kinds[i]);
	kfault_log__free(&l);
}

/* A WARN() from a livepatch replacement, as 6.12 logs it (one record per line). */
static const char *const warn_report[] = {
	"------------[ cut here ]------------",
	"lp_gate_warn: warning on call 500",
	"WARNING: CPU: 1 PID: 231 at /tmp/fx/lp_gate_warn.c:17 lp_gate_warn_version_show+0x4d/0x70 [lp_gate_warn]",
	"Modules linked in: lp_gate_warn(OEK) 9p netfs",
	"CPU: 1 UID: 0 PID: 231 Comm: lpload Tainted: G           OE K    6.12.117+deb12-amd64 #1",
	"RIP: 0010:lp_gate_warn_version_show+0x4d/0x70 [lp_gate_warn]",
	"Code: 48 8b 05 00 00 00 00 <0f> 0b",
	"Call Trace:",
	" <TASK>",
	" ? __warn+0x89/0x130",
	" ? lp_gate_warn_version_show+0x4d/0x70 [lp_gate_warn]",
	" seq_read_iter+0x123/0x4a0",
	" proc_reg_read_iter+0x4e/0x90",
	" vfs_read+0x299/0x370",
	" </TASK>",
	"---[ end trace 0000000000000000 ]---",
	"random: crng reseeded",
	NULL,
};

static void test_warning_pinned(void **state)
{
	static const char *const names[] = { "version_proc_show", "lp_gate_warn_version_show", NULL };
	static const char *const other[] = { "loadavg_proc_show", "lp_x_loadavg", NULL };
	struct kfault_log l = fed(warn_report, 1);

	(void)state;
	assert_string_equal(l.v[0].kind, "warning");
	assert_non_null(strstr(l.v[0].line, "lp_gate_warn.c:17"));
	assert_string_equal(kfault__names(&l.v[0], names), "lp_gate_warn_version_show");
	assert_null(kfault__names(&l.v[0], other));
	/* lines after the end marker are not part of its trace */
	assert_string_equal(l.v[0].trace[l.v[0].ntrace - 1], "vfs_read");
	kfault_log__free(&l);
}

/* Guessed frames ("? ") are not evidence; a lockup report ends with its task stack. */
static void test_guesses_and_report_end(void **state)
{
	static const char *const recs[] = {
		"watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [lpload:120]",
		"Call Trace:",
		" <TASK>",
		" ? lp_hot_show+0x10/0x20 [lp_hot]",
		" do_idle+0x1/0x2",
		" </TASK>",
		" unrelated_dump+0x10/0x20",	/* another dump's frame: not this fault's */
		NULL,
	};
	static const char *const hot[] = { "lp_hot_show", NULL }, *const other[] = { "unrelated_dump", NULL };
	struct kfault_log l = fed(recs, 1);

	(void)state;
	assert_int_equal(l.v[0].ntrace, 1);
	assert_string_equal(l.v[0].trace[0], "do_idle");
	assert_null(kfault__names(&l.v[0], hot));
	assert_null(kfault__names(&l.v[0], other));
	kfault_log__free(&l);
}

static void test_kinds(void **state)
{
	(void)state;
	assert_kinds((const char *const[]){
		"watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [lpload:120]",
		"BUG: kernel NULL pointer dereference, address: 0000000000000008",
		"Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
		"INFO: task lpload:99 blocked for more than 120 seconds.",
		"kernel BUG at mm/slub.c:400!",
		"lp_cmdline: loading out-of-tree module taints kernel.",
		"livepatch: 'lp_cmdline': patching complete",
		NULL,
	}, (const char *const[]){ "soft_lockup", "bug", "oops", "rcu_stall", "hung_task", "bug", NULL });
}

static void test_noise_is_not_a_fault(void **state)
{
	(void)state;
	assert_kinds((const char *const[]){
		"livepatch: enabling patch 'lp_gate_ok'",
		" some_function+0x10/0x20",	/* a trace line with no fault before it */
		"audit: type=1400 audit(0.0:2): apparmor=\"DENIED\"",
		NULL,
	}, (const char *const[]){ NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warning_pinned),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_guesses_and_report_end),
		cmocka_unit_test(test_noise_is_not_a_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
