// SPDX-License-Identifier: GPL-2.0
/*
 * Auto mode's choice of attach method (probes__pick_mode), every combination:
 * kprobes wherever a trampoline cannot or must not go, fentry elsewhere, and a
 * session only where the kernel has it AND it was measured cheaper AND
 * nothing needs the per-task stack. Then how a session program's skipped
 * runs split into entries and returns (probes__session_split).
 */
#include <linux/types.h>
#include "unit.h"
#include "probes.h"
#include "probes_int.h"

static void test_pick_every_combination(void **state)
{
	(void)state;
	for (unsigned bits = 0; bits < 256; bits++) {
		struct mode_facts f = {
			.has_btf = bits & 1, .patched = bits & 2, .kprobe_only = bits & 4,
			.session = bits & 8, .session_cheaper = bits & 16,
			.fsession = bits & 32, .fsession_cheaper = bits & 64, .need_stack = bits & 128,
		};
		enum attach_mode want;

		if (!f.has_btf || f.patched || f.kprobe_only)
			want = ATTACH_KPROBE;
		else if (f.need_stack)
			want = ATTACH_FENTRY;
		else if (f.fsession && f.fsession_cheaper)
			want = ATTACH_FSESSION;
		else if (f.session && f.session_cheaper)
			want = ATTACH_KPROBE_SESSION;
		else
			want = ATTACH_FENTRY;
		assert_int_equal(probes__pick_mode(&f), want);
	}
}

static void test_session_needs_both(void **state)
{
	struct mode_facts f = { .has_btf = true };

	(void)state;
	/* The kernel has sessions (6.12), but they cost more there: fentry. */
	f.session = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_FENTRY);
	/* Measured cheaper, but this kernel (6.1) has none: fentry. */
	f.session = false;
	f.session_cheaper = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_FENTRY);
	f.session = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_KPROBE_SESSION);
	/* Never on a patched function or a module's, however cheap. */
	f.patched = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_KPROBE);
	f.patched = false;
	f.kprobe_only = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_KPROBE);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(attach_mode__name(ATTACH_FENTRY), "fentry");
	assert_string_equal(attach_mode__name(ATTACH_KPROBE), "kprobe");
	assert_string_equal(attach_mode__name(ATTACH_KPROBE_SESSION), "kprobe_session");
	assert_string_equal(attach_mode__name(ATTACH_FSESSION), "fsession");
	assert_string_equal(attach_mode__name(ATTACH_AUTO), "auto");
}

static void test_fsession_over_kprobe_session(void **state)
{
	struct mode_facts f = { .has_btf = true, .session = true, .session_cheaper = true,
				.fsession = true, .fsession_cheaper = true };

	(void)state;
	assert_int_equal(probes__pick_mode(&f), ATTACH_FSESSION);
	/* Signals read the per-task stack, which no session keeps. */
	f.need_stack = true;
	assert_int_equal(probes__pick_mode(&f), ATTACH_FENTRY);
}

/* A histogram with calls entries counted, recorded latencies and unmatched returns. */
static struct lps_hist hist_of(__u64 calls, __u64 recorded, __u64 unmatched)
{
	struct lps_hist h = { .calls = calls, .unmatched = unmatched };

	h.buckets[0] = recorded;
	return h;
}

/*
 * A trampoline runs a session's return whether or not its entry ran: 2000
 * calls, 150 skipped whole (entry and return), 30 entries skipped alone, 20
 * returns skipped alone (the 7.2 guest skips such runs: kernel-facts.md).
 */
static void test_fsession_split(void **state)
{
	struct lps_hist h = hist_of(2000 - 150 - 30, 2000 - 150 - 30 - 20, 30);
	__u64 se, sr;

	(void)state;
	probes__session_split(ATTACH_FSESSION, &h, 2 * 150 + 30 + 20, &se, &sr);
	assert_int_equal(h.calls + se, 2000);
	assert_int_equal(se, 180);
	assert_int_equal(sr, 170);
	/* One call in flight, its entry counted: it counts, as fentry's would. */
	h = hist_of(11, 10, 0);
	probes__session_split(ATTACH_FSESSION, &h, 0, &se, &sr);
	assert_int_equal(se + sr, 0);
	/* In flight with its entry skipped: half a call, rounded up. */
	h = hist_of(10, 10, 0);
	probes__session_split(ATTACH_FSESSION, &h, 1, &se, &sr);
	assert_int_equal(se, 1);
	assert_int_equal(sr, 0);
	/* Nothing skipped, nothing made up. */
	h = hist_of(0, 0, 0);
	probes__session_split(ATTACH_FSESSION, &h, 0, &se, &sr);
	assert_int_equal(se + sr, 0);
}

/*
 * 100 sleepers in flight, entries counted; 1010 calls done, 10 of them with
 * the entry skipped and the return run (unmatched). Half the sleepers would
 * hide the skipped entries: each unmatched return is one, so 1110 calls.
 */
static void test_fsession_split_in_flight(void **state)
{
	struct lps_hist h = hist_of(1000 + 100, 1000, 10);
	__u64 se, sr;

	(void)state;
	probes__session_split(ATTACH_FSESSION, &h, 10, &se, &sr);
	assert_int_equal(h.calls + se, 1110);
	assert_int_equal(sr, 0);
}

/* kprobe_multi never runs the return of an entry it skipped. */
static void test_ksession_split(void **state)
{
	/* 1000 calls: 40 entries skipped (no return), 25 returns skipped. */
	struct lps_hist h = hist_of(960, 960 - 25, 0);
	__u64 se, sr;

	(void)state;
	probes__session_split(ATTACH_KPROBE_SESSION, &h, 40 + 25, &se, &sr);
	assert_int_equal(h.calls + se, 1000);
	assert_int_equal(sr, 25);
	/* Calls in flight look like skipped returns: never more than the misses. */
	h = hist_of(100, 40, 0);
	probes__session_split(ATTACH_KPROBE_SESSION, &h, 5, &se, &sr);
	assert_int_equal(se, 0);
	assert_int_equal(sr, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_every_combination),
		cmocka_unit_test(test_session_needs_both),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fsession_over_kprobe_session),
		cmocka_unit_test(test_fsession_split),
		cmocka_unit_test(test_fsession_split_in_flight),
		cmocka_unit_test(test_ksession_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
