// SPDX-License-Identifier: GPL-2.0
/*
 * inspect's module reader on real fixture livepatches (built for a lab kernel,
 * directory in LPS_FIXTURE_DIR) and on every kind of bad file: missing, empty,
 * random, truncated at many points, corrupted at random. Run under ASan/UBSan
 * too (make unit-test), so an overread is a failure, not luck.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "klp_module.h"

static char dir[512];

static char *fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	return path;
}

static void expect_target(const struct klp_module_info *m, size_t i, const char *obj,
			  const char *fn, unsigned long sympos, const char *repl)
{
	assert_true(i < m->n);
	assert_string_equal(m->targets[i].object, obj);
	assert_string_equal(m->targets[i].function, fn);
	assert_int_equal(m->targets[i].sympos, sympos);
	assert_string_equal(m->targets[i].replacement, repl);
}

static void test_real_fixtures(void **state)
{
	struct klp_module_info m;
	char why[256];

	(void)state;
	assert_int_equal(klp_module__inspect(fixture("lp_cmdline"), &m, why, sizeof(why)), 0);
	assert_string_equal(m.patch, "lp_cmdline");
	assert_string_equal(m.style, "klp");
	assert_int_equal(m.replace, 0);
	assert_int_equal(m.n, 1);
	expect_target(&m, 0, "vmlinux", "cmdline_proc_show", 0, "lp_cmdline_proc_show");
	klp_module_info__free(&m);

	assert_int_equal(klp_module__inspect(fixture("lp_multi"), &m, why, sizeof(why)), 0);
	assert_int_equal(m.n, 2);
	expect_target(&m, 0, "vmlinux", "version_proc_show", 0, "lp_multi_version_show");
	expect_target(&m, 1, "vmlinux", "loadavg_proc_show", 0, "lp_multi_loadavg_show");
	klp_module_info__free(&m);

	assert_int_equal(klp_module__inspect(fixture("lp_repl_b"), &m, why, sizeof(why)), 0);
	assert_int_equal(m.replace, 1);
	assert_int_equal(m.n, 2);
	klp_module_info__free(&m);

	assert_int_equal(klp_module__inspect(fixture("lp_busy"), &m, why, sizeof(why)), 0);
	expect_target(&m, 0, "lps_busy", "lps_busy_park", 0, "lp_busy_park");
	klp_module_info__free(&m);

	/* kpatch-build layout */
	assert_int_equal(klp_module__inspect(fixture("kp_cmdline"), &m, why, sizeof(why)), 0);
	assert_string_equal(m.style, "kpatch");
	assert_int_equal(m.replace, -1);
	assert_int_equal(m.n, 2);
	expect_target(&m, 0, "vmlinux", "cmdline_proc_show", 0, "kp_cmdline_proc_show");
	expect_target(&m, 1, "lps_fail", "lps_fail_check", 1, "kp_lps_fail_check");
	klp_module_info__free(&m);
}

static void expect_refused(const char *path, const char *words)
{
	struct klp_module_info m;
	char why[256] = "";

	assert_true(klp_module__inspect(path, &m, why, sizeof(why)) < 0);
	if (!strstr(why, words)) {
		print_error("%s: '%s' does not say '%s'\n", path, why, words);
		fail();
	}
	assert_null(strchr(why, '\n'));	/* one line */
}

static void test_bad_files(void **state)
{
	char path[128];
	unsigned char junk[4096];
	unsigned int seed = 7;

	(void)state;
	expect_refused("/nonexistent/patch.ko", "No such file");
	snprintf(path, sizeof(path), "%s/empty.ko", unit_tmpdir);
	unit__write_file(path, "", 0);
	expect_refused(path, "not an ELF");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand_r(&seed);
	snprintf(path, sizeof(path), "%s/random.ko", unit_tmpdir);
	unit__write_file(path, junk, sizeof(junk));
	expect_refused(path, "not an ELF");
	expect_refused(fixture("lps_fail"), "not a livepatch");
	expect_refused(dir, "");	/* a directory */
}

static void test_truncated(void **state)
{
	size_t len, step;
	char *buf = unit__read_file(fixture("lp_multi"), &len), path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/trunc.ko", unit_tmpdir);
	/* ~300 cut points, plus each of the first 128 bytes (the headers) */
	step = len / 300 + 1;
	for (size_t cut = 0; cut < len; cut += cut < 128 ? 1 : step) {
		struct klp_module_info m;
		char why[256];

		unit__write_file(path, buf, cut);
		/* The section table sits at the end: any cut loses it. */
		if (klp_module__inspect(path, &m, why, sizeof(why)) == 0) {
			print_error("truncated at %zu of %zu was accepted\n", cut, len);
			fail();
		}
	}
	free(buf);
}

static void test_corrupted(void **state)
{
	size_t len, accepted = 0;
	char *orig = unit__read_file(fixture("lp_multi"), &len), *buf = malloc(len), path[128];
	unsigned int seed = 42;

	(void)state;
	assert_non_null(buf);
	snprintf(path, sizeof(path), "%s/corrupt.ko", unit_tmpdir);
	for (int round = 0; round < 400; round++) {
		struct klp_module_info m;
		char why[256];
		int flips = 1 + rand_r(&seed) % 4;

		memcpy(buf, orig, len);
		for (int f = 0; f < flips; f++) {
			/* half the hits in the ELF and section headers, where damage bites */
			size_t at = rand_r(&seed) % 2 ? (size_t)rand_r(&seed) % 64 : (size_t)rand_r(&seed) % len;

			buf[at] ^= (char)(1 + rand_r(&seed) % 255);
		}
		unit__write_file(path, buf, len);
		if (klp_module__inspect(path, &m, why, sizeof(why)) == 0) {
			/* Accepted: whatever it found must be well-formed. */
			accepted++;
			assert_true(m.n > 0);
			for (size_t i = 0; i < m.n; i++)
				assert_true(m.targets[i].function[0] && m.targets[i].object[0]);
			klp_module_info__free(&m);
		} else {
			assert_true(why[0] != '\0');
		}
	}
	print_message("corrupted: %zu of 400 still parsed (damage outside what inspect reads)\n",
		      accepted);
	free(buf);
	free(orig);
}

static int setup(void **state)
{
	const char *d = getenv("LPS_FIXTURE_DIR");

	(void)state;
	if (!d || access(d, R_OK)) {
		fprintf(stderr, "LPS_FIXTURE_DIR must name built fixtures (make unit-test sets it)\n");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", d);
	return unit__tmpdir_setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_fixtures),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted),
	};

	return cmocka_run_group_tests_name("klp_module", tests, setup, unit__tmpdir_teardown);
}
