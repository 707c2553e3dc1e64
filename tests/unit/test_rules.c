// SPDX-License-Identifier: GPL-2.0
/*
 * Rules files: the real ones in the tree parse, and every hostile one is
 * refused with one line naming the file and the line at fault, the exact
 * words asserted. Read through rules__load, as gate and the daemon do.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "rules.h"
#include "rules_yaml.h"
#include "safe_file.h"
#include "watch.h"

static char path[128];

/* TEXT (LEN bytes) as the rules file; rules__load's result, its message in WHY. */
static int load_n(const char *text, size_t len, struct rules *r, char *why, size_t why_len)
{
	snprintf(path, sizeof(path), "%s/rules.yaml", unit_tmpdir);
	unit__write_file(path, text, len);
	why[0] = '\0';
	return rules__load(path, r, why, why_len);
}

/* TEXT is refused with exactly "PATH" WANT (":LINE: reason"), on one line. */
static void expect_n(const char *text, size_t len, const char *want)
{
	char why[512], full[512];
	struct rules r;
	int ret = load_n(text, len, &r, why, sizeof(why));

	snprintf(full, sizeof(full), "%s%s", path, want);
	if (ret != -EINVAL || strcmp(why, full)) {
		print_error("rules:\n%.300s\nreturned %d, said\n  '%s'\nnot\n  '%s'\n", text, ret, why,
			    full);
		if (!ret)
			rules__free(&r);
		fail();
	}
	assert_null(strchr(why, '\n'));
}

static void expect(const char *text, const char *want)
{
	expect_n(text, strlen(text), want);
}

/* 1. A key given twice, at any level: the second is refused, naming the first. */
static void test_repeated_keys(void **state)
{
	(void)state;
	/* Two lists of watch: the second, shorter, was written past its buffer. */
	expect("watch:\n  - a\n  - b\n  - c\nwatch:\n  - d\n",
	       ":5: key \"watch\" given twice (first at line 1)");
	expect("watch: []\nwatch:\n  - loadavg_proc_show\n",
	       ":2: key \"watch\" given twice (first at line 1)");
	/* Two functions: sections leaked the first's arrays. */
	expect("functions:\n  - match: a*\nfunctions:\n  - match: b*\n",
	       ":3: key \"functions\" given twice (first at line 1)");
	expect("defaults:\n  alpha: 0.01\ndefaults:\n  alpha: 0.02\n",
	       ":3: key \"defaults\" given twice (first at line 1)");
	expect("defaults:\n  checks:\n    latency:\n      ratio: 2\n      ratio: 3\n",
	       ":5: key \"ratio\" given twice (first at line 4)");
	expect("defaults:\n  checks:\n    errors: {}\n    errors: {}\n",
	       ":4: key \"errors\" given twice (first at line 3)");
	expect("functions:\n  - match: a*\n    match: b*\n",
	       ":3: key \"match\" given twice (first at line 2)");
	expect("defaults: {alpha: 0.01, min_calls: 5, alpha: 0.02}\n",
	       ":1: key \"alpha\" given twice (first at line 1)");
	/* The earliest repeat in the file is the one reported. */
	expect("defaults:\n  b: 1\n  a: 1\n  a: 2\n  b: 2\n",
	       ":4: key \"a\" given twice (first at line 3)");
}

/* 2. One document: a second, after ---, is refused at its line. */
static void test_second_document(void **state)
{
	(void)state;
	expect("defaults:\n  alpha: 0.01\n---\nwatch: [a]\n",
	       ":3: a second YAML document: a rules file is one document");
	expect("---\ndefaults: {}\n...\n---\ndefaults: {}\n",
	       ":4: a second YAML document: a rules file is one document");
}

/* 3. Numbers are plain decimals, in range; counts are whole. */
static void test_numbers(void **state)
{
	static const char *const counts[] = {
		"200.9", "1e3", "0x10", "-1", "+5", "\" 5 \"", "010", "1000000000001",
		"99999999999999999999999999", "''", "[1]", "5_000",
	};
	static const char *const reals[] = {
		"nan", ".nan", "inf", ".inf", "1e999", "1e-999", "0x1p-3", "-0.01", "1.5", ".5",
		"5.", "1e", "1.5e+", "00.1", "\"0.01 \"", "0,01",
	};
	char text[128], want[160];

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		const char *shown = counts[i][0] == '"' ? " 5 " : counts[i][0] == '\'' ? "" :
				    counts[i][0] == '[' ? "(not a scalar)" : counts[i];

		snprintf(text, sizeof(text), "defaults:\n  min_calls: %s\n", counts[i]);
		snprintf(want, sizeof(want), ":2: min_calls: '%s' is not a whole number in [1, 1e+12]",
			 shown);
		expect(text, want);
	}
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		const char *shown = reals[i][0] == '"' ? "0.01 " : reals[i];

		snprintf(text, sizeof(text), "defaults:\n  checks:\n    errors:\n      rate_increase: %s\n",
			 reals[i]);
		snprintf(want, sizeof(want), ":4: rate_increase: '%s' is not a number in [0, 1]", shown);
		expect(text, want);
	}
	expect("defaults:\n  baseline_s: 0.05\n",
	       ":2: baseline_s: '0.05' is not a number in [0.1, 86400]");
	expect("defaults:\n  look_interval_s: 3601\n",
	       ":2: look_interval_s: '3601' is not a number in [0.1, 3600]");
	expect("defaults:\n  alpha: 0\n", ":2: alpha: '0' is not a number in [1e-12, 0.5]");
	expect("functions:\n  - match: x*\n    checks: {latency: {ratio: 0.5}}\n",
	       ":3: ratio: '0.5' is not a number in [1, 1e+06]");
	expect("defaults:\n  checks:\n    latency: {enabled: 1}\n",
	       ":3: enabled: expected true or false");
	expect("defaults:\n  cpu_budget: 101\n", ":2: cpu_budget: '101' is not a number in [0, 100]");
	expect("defaults:\n  cpu_budget: -1\n", ":2: cpu_budget: '-1' is not a number in [0, 100]");
}

/* What is accepted is read exactly. */
static void test_numbers_read(void **state)
{
	char why[256];
	struct rules r;
	const char *text = "defaults:\n  alpha: 1e-3\n  min_calls: 0\n";

	(void)state;
	assert_int_equal(load_n(text, strlen(text), &r, why, sizeof(why)), -EINVAL);
	text = "defaults:\n  alpha: 1e-3\n  baseline_s: 1.5E1\n  min_calls: 1000000000000\n"
	       "  checks:\n    errors: {min_errors: 0, rate_increase: 1}\n"
	       "    latency: {enabled: no, min_delta_ns: 0.0}\n";
	assert_int_equal(load_n(text, strlen(text), &r, why, sizeof(why)), 0);
	assert_true(r.defaults.alpha == 0.001 && r.defaults.baseline_s == 15);
	assert_true(r.defaults.min_calls == 1000000000000ULL && r.defaults.errors.min_errors == 0);
	assert_true(r.defaults.errors.rate_increase == 1 && !r.defaults.latency.enabled);
	assert_true(r.defaults.cpu_budget_pct == 0);	/* no budget unless asked */
	rules__free(&r);
	/* A budget for the hot functions only: the others keep theirs (none). */
	text = "defaults:\n  cpu_budget: 0\nfunctions:\n  - match: \"__do_sys_*\"\n    cpu_budget: 1.5\n";
	assert_int_equal(load_n(text, strlen(text), &r, why, sizeof(why)), 0);
	{
		struct rules_set fs;

		rules__for_function(&r, "__do_sys_getpid", &fs);
		assert_true(fs.cpu_budget_pct == 1.5);
		rules__for_function(&r, "version_proc_show", &fs);
		assert_true(fs.cpu_budget_pct == 0);
	}
	rules__free(&r);
}

/*
 * 4. Rings the daemon would keep: a day of baseline at 0.1 s looks is
 * 864001 slots, 3.6 GiB for one function; refused with the estimate.
 */
static void test_memory(void **state)
{
	char *text, why[256];
	struct rules r;
	size_t n = 0;

	(void)state;
	expect("defaults:\n  baseline_s: 86400\n  look_interval_s: 0.1\n",
	       ":2: baseline rings need 3645 MiB, more than 256: (0 watched + the system) x 864001 "
	       "slots (baseline_s / look_interval_s + 1) x 4424 bytes");
	/* The most names watch: may list, at the default windows: 190 MiB, taken. */
	text = malloc(16 + 4097 * 16);
	assert_non_null(text);
	n += (size_t)sprintf(text, "watch:\n");
	for (int i = 0; i < RULES_MAX_WATCH; i++)
		n += (size_t)sprintf(text + n, "  - f%d\n", i);
	assert_int_equal(load_n(text, n, &r, why, sizeof(why)), 0);
	assert_int_equal(r.nwatch, RULES_MAX_WATCH);
	assert_true(rules__ring_bytes(&r.defaults, r.nwatch) == 4097.0 * 11 * 4424);
	rules__free(&r);
	/* ...but with an hour of baseline: refused. */
	memcpy(text + n, "defaults: {baseline_s: 3600}\n", 30);
	expect(text, ":4098: baseline rings need 62245 MiB, more than 256: (4096 watched + the "
	       "system) x 3601 slots (baseline_s / look_interval_s + 1) x 4424 bytes");
	/* One more name is too many. */
	sprintf(text + n, "  - f%d\n", RULES_MAX_WATCH);
	expect(text, ":2: watch has 4097 entries, more than 4096");
	free(text);
}

/* The estimate counts what the daemon allocates per slot (watch_model.c). */
static void test_memory_matches_daemon(void **state)
{
	struct watch_fn fn;
	struct watch_sys sys;
	struct rules_set d;

	(void)state;
	assert_int_equal(RULES_RING_SLOT_BYTES,
			 sizeof(*fn.ring) + sizeof(*fn.ring_s) + sizeof(*fn.sring));
	assert_int_equal(RULES_RING_SLOT_BYTES,
			 sizeof(*sys.ring) + sizeof(*sys.runq_ring) + sizeof(*sys.ring_s));
	rules__builtin(&d);
	assert_int_equal(rules__ring_slots(d.baseline_s, d.look_interval_s), 11);
	assert_int_equal(rules__ring_slots(10, 3), 5);
	assert_true(rules__ring_bytes(&d, 2) == 3.0 * 11 * RULES_RING_SLOT_BYTES);
}

/* 5. YAML and encoding errors at their real line; libyaml's context kept. */
static void test_syntax_lines(void **state)
{
	(void)state;
	expect("defaults:\n  alpha: 0.01\n  \xff: 1\n",
	       ":3: invalid leading UTF-8 octet (at byte offset 26)");
	expect("defaults:\n  alpha: 0.01\n\n  min_calls: 5\x01\n",
	       ":4: control characters are not allowed (at byte offset 39)");
	expect_n("defaults:\n  alpha: 0.01\n  a\0: 1\n", 32,
		 ":3: control characters are not allowed (at byte offset 27)");
	expect("defaults:\n  alpha: 0.01\n  x: \"\xc3\x28\"\n",
	       ":3: invalid trailing UTF-8 octet (at byte offset 31)");
	expect("defaults:\n  alpha: 0.01\n  min_calls: [1, 2\nwatch: [a]\n",
	       ":4: did not find expected ',' or ']' (while parsing a flow sequence at line 3)");
	expect("defaults:\n  alpha: 0.01\n min_calls: 5\n",
	       ":3: did not find expected key (while parsing a block mapping at line 1)");
	expect("watch:\n  - a\n  - \"b\n", ":4: found unexpected end of stream "
	       "(while scanning a quoted scalar at line 3)");
	/* Nothing, or only comments: still a file and a line. */
	expect("", ":1: empty rules file");
	expect("# nothing\n", ":1: empty rules file");
}

/* What a rules file never needs: refused where it is, not followed. */
static void test_yaml_features(void **state)
{
	(void)state;
	/* A mapping inside itself, through an alias. */
	expect("defaults: &a\n  checks: *a\n",
	       ":1: anchors (&) and aliases (*) are not allowed in a rules file");
	expect("defaults:\n  alpha: !!float 0.01\n",
	       ":2: tags (!) are not allowed in a rules file");
	expect("watch: [[[[[[[[a]]]]]]]]\n", ":1: nested deeper than 8 levels");
	expect("? [a, b]\n: 1\n", ":1: keys must be plain names");
	/* "\0" hid the rest of a key from C strings: "alpha\0junk" read as alpha. */
	expect("defaults:\n  \"alpha\\0junk\": 0.01\n",
	       ":2: a value with a byte that is not printable ASCII");
	expect("watch:\n  - \"\\e[2Jversion_proc_show\"\n",
	       ":2: a value with a byte that is not printable ASCII");
	expect("watch:\n  - |\n    a\n    b\n", ":2: a value with a byte that is not printable ASCII");
}

/* More nodes than any rules file: refused at the one past the limit. */
static void test_too_many_nodes(void **state)
{
	size_t n = 0;
	char *text = malloc(8 + 2 * (RULES_YAML_MAX_NODES + 2));

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text, "x: [");
	for (int i = 0; i < RULES_YAML_MAX_NODES; i++)
		text[n++] = 'a', text[n++] = ',';
	text[n++] = ']';
	text[n] = '\0';
	expect(text, ":1: more than 65536 YAML nodes");
	free(text);
}

/* 6. Only a regular file of bounded size is read: a FIFO is refused at once. */
static void test_not_regular(void **state)
{
	char fifo[128], why[256];
	struct rules r;
	char *big;

	(void)state;
	snprintf(fifo, sizeof(fifo), "%s/fifo.yaml", unit_tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);	/* the old fopen blocked here for ever */
	assert_int_equal(rules__load(fifo, &r, why, sizeof(why)), -EINVAL);
	alarm(0);
	assert_true(strstr(why, fifo) == why && !strcmp(why + strlen(fifo), ": is a FIFO, not a regular file"));
	assert_int_equal(rules__load("/dev/zero", &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "/dev/zero: is a character device, not a regular file");
	big = calloc(1, SAFE_FILE_MAX_TEXT + 2);
	assert_non_null(big);
	memset(big, '#', SAFE_FILE_MAX_TEXT + 1);
	assert_int_equal(load_n(big, SAFE_FILE_MAX_TEXT + 1, &r, why, sizeof(why)), -EFBIG);
	assert_true(strstr(why, path) == why &&
		    !strcmp(why + strlen(path), ": is 4194305 bytes, more than the 4194304 this file may have"));
	free(big);
	assert_int_equal(rules__load("/nonexistent-lps.yaml", &r, why, sizeof(why)), -ENOENT);
}

/* 7. watch: names are kernel symbols; match: globs are globs of them. */
static void test_names(void **state)
{
	(void)state;
	expect("watch:\n  - version_proc_show\n  - a-b\n",
	       ":3: watch entry 'a-b' is not a kernel symbol name ([A-Za-z0-9_.$], at most 511 bytes)");
	expect("watch:\n  - 'do_*'\n",
	       ":2: watch entry 'do_*' is not a kernel symbol name ([A-Za-z0-9_.$], at most 511 bytes)");
	expect("watch:\n  - {a: b}\n",
	       ":2: watch entry '' is not a kernel symbol name ([A-Za-z0-9_.$], at most 511 bytes)");
	expect("watch:\n  - ''\n",
	       ":2: watch entry '' is not a kernel symbol name ([A-Za-z0-9_.$], at most 511 bytes)");
	expect("watch: version_proc_show\n", ":1: watch must be a list");
	expect("functions:\n  - match: 'a/b*'\n",
	       ":2: match: 'a/b*' is not a glob of symbol names ([A-Za-z0-9_.$] and *?[]!^-, at most "
	       "511 bytes)");
	expect("functions:\n  - match: [a]\n",
	       ":2: match: '' is not a glob of symbol names ([A-Za-z0-9_.$] and *?[]!^-, at most "
	       "511 bytes)");
}

/* Every functions: entry is matched against every function judged: at most 1024. */
static void test_overrides_limit(void **state)
{
	char *text = malloc(16 + (RULES_MAX_OVERRIDES + 1) * 48), why[256];
	struct rules r;
	struct rules_set s;
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	n += (size_t)sprintf(text, "functions:\n");
	for (int i = 0; i < RULES_MAX_OVERRIDES; i++)
		n += (size_t)sprintf(text + n, "  - {match: f%d*, min_calls: %d}\n", i, i + 1);
	assert_int_equal(load_n(text, n, &r, why, sizeof(why)), 0);
	rules__for_function(&r, "f1023_x", &s);
	assert_int_equal(s.min_calls, 1024);
	rules__free(&r);
	sprintf(text + n, "  - {match: g*}\n");
	expect(text, ":2: functions has 1025 entries, more than 1024");
	free(text);
}

/* Earlier refusals keep their words and lines. */
static void test_malformed(void **state)
{
	(void)state;
	expect("defaults:\n  baseline_s: 10\n  colour: red\n", ":3: unknown setting 'colour'");
	expect("defaults:\n  alpha: lots\n", ":2: alpha: 'lots' is not a number in [1e-12, 0.5]");
	expect("defaults:\n  inconclusive: maybe\n", ":2: inconclusive is keep or revert");
	expect("functions:\n  - checks: {latency: {ratio: 2}}\n",
	       ":2: functions entry without a match: glob");
	expect("- just a list\n",
	       ":1: the top level must be a mapping (defaults:, functions:, watch:)");
	expect("defaults:\n  checks:\n    colour: {}\n", ":3: unknown check 'colour' (latency, "
	       "errors, lock_contention, kernel_faults, runqueue_latency)");
	expect("defaults:\n  checks:\n    kernel_faults: {max_events: 0, flavour: x}\n",
	       ":3: unknown setting 'flavour' for check 'kernel_faults'");
	expect("colour: red\n", ":1: unknown section 'colour' (defaults, functions, watch)");
}

static void test_default_rules(void **state)
{
	struct rules r;
	struct rules_set s;
	char why[256];

	(void)state;
	assert_int_equal(rules__load("rules/default.yaml", &r, why, sizeof(why)), 0);
	rules__for_function(&r, "version_proc_show", &s);
	assert_true(s.latency.ratio == 1.5 && s.baseline_s == 10 && !s.inconclusive_revert);
	rules__for_function(&r, "do_slowpath_thing", &s);
	assert_true(s.latency.ratio == 3);
	assert_true(s.latency.min_delta_ns == 20000);	/* untouched by the override */
	assert_true(s.lock_contention.enabled && s.lock_contention.min_events == 20 &&
		    s.kernel_faults.max_events == 0 && s.runqueue_latency.min_delta_ns == 1000000);
	rules__free(&r);
}

static void test_watch_list(void **state)
{
	const char *text = "watch:\n  - version_proc_show\n  - loadavg_proc_show\n";
	char why[256];
	struct rules r;

	(void)state;
	assert_int_equal(load_n(text, strlen(text), &r, why, sizeof(why)), 0);
	assert_int_equal(r.nwatch, 2);
	assert_string_equal(r.watch[1], "loadavg_proc_show");
	rules__free(&r);
}

/*
 * Every rules file in the tree parses: rules/ and the seeds of the fuzzer,
 * copies of those the VM cases write (bad-*: the ones they expect refused).
 */
static void test_tree_files(void **state)
{
	static const char *const files[] = {
		"rules/default.yaml",
		"tests/fuzz/corpus/rules/default.yaml",
		"tests/fuzz/corpus/rules/full.yaml",
		"tests/fuzz/corpus/rules/vm-gate_safety-stall.yaml",
		"tests/fuzz/corpus/rules/vm-watch.yaml",
		"tests/fuzz/corpus/rules/vm-watch-hup.yaml",
	};
	char why[256];
	struct rules r;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (rules__load(files[i], &r, why, sizeof(why))) {
			print_error("%s\n", why);
			fail();
		}
		rules__free(&r);
	}
	assert_int_equal(rules__load("tests/fuzz/corpus/rules/bad-vm-gate_safety.yaml", &r, why,
				     sizeof(why)), -EINVAL);
	assert_string_equal(why, "tests/fuzz/corpus/rules/bad-vm-gate_safety.yaml:3: "
			    "unknown setting 'colour'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repeated_keys),
		cmocka_unit_test(test_second_document),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_read),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_memory_matches_daemon),
		cmocka_unit_test(test_syntax_lines),
		cmocka_unit_test(test_yaml_features),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_overrides_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_watch_list),
		cmocka_unit_test(test_tree_files),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
