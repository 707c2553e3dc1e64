// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon's state file: what is saved comes back exactly, and every
 * truncation and every corruption of a real saved file is refused, not read.
 */
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include "unit.h"
#include "watch_state.h"

static void fill(struct watch_state *st, struct state_baseline *f, struct state_patch *p)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->kernel, sizeof(st->kernel), "6.12.0-test-amd64");
	snprintf(st->boot_id, sizeof(st->boot_id), "4b0c3a5e-2f1d-4c7b-9a8e-0d1e2f3a4b5c");
	for (size_t i = 0; i < 3; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		snprintf(f[i].function, sizeof(f[i].function), "func_%zu", i);
		f[i].seconds = 10.5 + (double)i;
		f[i].hist.calls = 1000 + i;
		f[i].hist.errors = i;
		snprintf(f[i].attach, sizeof(f[i].attach), "%s", i ? "kprobe" : "fentry");
		for (size_t b = 0; b < HIST_BUCKETS; b += 7)
			f[i].hist.buckets[b] = b * (i + 1);
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->patch, sizeof(p->patch), "lp_gate_slow");
	p->verdict = 2;
	snprintf(p->state, sizeof(p->state), "reverted");
	p->judged_at = 1764000000;
	st->funcs = f;
	st->nfuncs = 3;
	st->patches = p;
	st->npatches = 1;
}

static void test_roundtrip(void **state)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st, back;
	char why[128] = "";

	(void)state;
	fill(&st, f, &p);
	assert_int_equal(watch_state__save(unit_tmpdir, &st), 0);
	assert_int_equal(watch_state__load(unit_tmpdir, &back, why, sizeof(why)), 0);
	assert_string_equal(back.kernel, st.kernel);
	assert_string_equal(back.boot_id, st.boot_id);
	assert_int_equal(back.nfuncs, 3);
	assert_int_equal(back.npatches, 1);
	assert_memory_equal(back.funcs, f, sizeof(f));
	assert_memory_equal(back.patches, &p, sizeof(p));
	watch_state__free(&back);
}

static void test_missing(void **state)
{
	struct watch_state back;
	char why[128];

	(void)state;
	assert_int_equal(watch_state__load("/nonexistent-lps-dir", &back, why, sizeof(why)), -ENOENT);
}

/* A real state file: fill()'s state saved, read back whole. */
static unsigned char *saved_state_file(size_t *n)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st;
	char path[256];

	fill(&st, f, &p);
	assert_int_equal(watch_state__save(unit_tmpdir, &st), 0);
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, WATCH_STATE_FILE);
	return unit__read_file(path, n);
}

/* Every prefix of a real file is refused. */
static void test_truncations(void **state)
{
	struct watch_state back;
	char why[128];
	size_t n;
	unsigned char *buf = saved_state_file(&n);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		why[0] = 0;
		assert_int_equal(watch_state__decode(buf, k, &back, why, sizeof(why)), -EBADMSG);
		assert_true(why[0] != 0);
		assert_null(back.funcs);
	}
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), 0);
	watch_state__free(&back);
	free(buf);
}

/* Every bit flip in a real file is refused. */
static void test_corruptions(void **state)
{
	struct watch_state back;
	char why[128];
	size_t n, refused = 0;
	unsigned char *buf = saved_state_file(&n);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int ret;

			buf[k] ^= (unsigned char)(1u << bit);
			ret = watch_state__decode(buf, n, &back, why, sizeof(why));
			buf[k] ^= (unsigned char)(1u << bit);
			if (ret == 0) {
				print_message("accepted flip at %zu bit %u of %zu\n", k, bit, n);
				watch_state__free(&back);
			}
			assert_int_equal(ret, -EBADMSG);
			refused++;
		}
	}
	assert_int_equal(refused, n * 8);
	free(buf);
}

/* A failed save never leaves a temp file or touches the old state. */
static void test_atomic_no_leftovers(void **state)
{
	char cmd[256];

	(void)state;
	assert_int_equal(watch_state__write_atomic("/nonexistent-lps-dir", "x", "a", 1), -ENOENT);
	assert_int_equal(watch_state__write_atomic(unit_tmpdir, "x", "abc", 3), 0);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | grep -c '^\\.') -eq 0", unit_tmpdir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_atomic_no_leftovers),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
