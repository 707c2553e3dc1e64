// SPDX-License-Identifier: GPL-2.0
/*
 * Auto mode's choice of attach method (probes__pick_mode), every combination:
 * kprobes wherever a trampoline cannot or must not go, fentry elsewhere, and a
 * kprobe session only where the kernel has it AND it was measured cheaper.
 */
#include <linux/types.h>
#include "unit.h"
#include "probes.h"

static void test_pick_every_combination(void **state)
{
	(void)state;
	for (unsigned bits = 0; bits < 32; bits++) {
		struct mode_facts f = {
			.has_btf = bits & 1, .patched = bits & 2, .kprobe_only = bits & 4,
			.session = bits & 8, .session_cheaper = bits & 16,
		};
		enum attach_mode want;

		if (!f.has_btf || f.patched || f.kprobe_only)
			want = ATTACH_KPROBE;
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
	assert_string_equal(attach_mode__name(ATTACH_AUTO), "auto");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_every_combination),
		cmocka_unit_test(test_session_needs_both),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
