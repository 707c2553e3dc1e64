// SPDX-License-Identifier: GPL-2.0
/*
 * Pooling verdicts of many hosts: the stratified judgement's power and
 * false-revert rate on replays where hosts differ from each other, reading
 * verdict files back (and refusing damaged ones), and the pool verb's exit
 * codes on files written by the same JSON writers gate uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli.h"
#include "hist.h"
#include "identity.h"
#include "judge.h"
#include "report.h"
#include "rules.h"
#include "unit.h"
#include "verdict_read.h"

#define HOSTS 5

struct fleet_case {
	size_t before[HOSTS], after[HOSTS];	/* calls per host */
	double scale, add_ns;			/* what the patch does */
};

struct outcome {
	int single_fail, single_inconclusive;	/* host 0 judged alone */
	int pooled_fail, naive_fail;		/* stratified; hosts summed and judged as one */
};

/* One rollout: each host its own level; judged one final look at full alpha. */
static void replay(const struct fleet_case *c, const struct rules_set *s, struct outcome *out)
{
	struct lps_hist *b = calloc(HOSTS, sizeof(*b)), *o = calloc(HOSTS, sizeof(*o));
	struct lps_hist *sb = calloc(1, sizeof(*sb)), *so = calloc(1, sizeof(*so));
	struct func_window wb[HOSTS] = { 0 }, wo[HOSTS] = { 0 }, nb = { .hist = sb }, no = { .hist = so };
	struct func_judgement j;

	for (size_t h = 0; h < HOSTS; h++) {
		double level = 0.6 + 0.25 * (double)h;	/* hosts 0.6x to 1.6x apart */

		unit__draw(&b[h], c->before[h], level, 0);
		unit__draw(&o[h], c->after[h], level * c->scale, c->add_ns);
		wb[h].hist = &b[h];
		wo[h].hist = &o[h];
		hist_add(sb, &b[h]);
		hist_add(so, &o[h]);
	}
	judge__function(&wb[0], &wo[0], s, s->alpha, &j);
	out->single_fail += j.verdict == VERDICT_FAIL;
	out->single_inconclusive += j.verdict == VERDICT_INCONCLUSIVE;
	judge__strata(wb, wo, HOSTS, s, s->alpha, &j);
	out->pooled_fail += j.verdict == VERDICT_FAIL;
	judge__function(&nb, &no, s, s->alpha, &j);
	out->naive_fail += j.verdict == VERDICT_FAIL;
	free(b);
	free(o);
	free(sb);
	free(so);
}

static struct outcome run(const struct fleet_case *c, const struct rules_set *s, int trials,
			  const char *what)
{
	struct outcome out = { 0 };

	for (int i = 0; i < trials; i++)
		replay(c, s, &out);
	print_message("%s: %d of %d rollouts; one host alone fails %d (inconclusive %d), "
		      "%d hosts pooled fail %d, summed as one host fail %d\n", what, trials, trials,
		      out.single_fail, out.single_inconclusive, HOSTS, out.pooled_fail,
		      out.naive_fail);
	return out;
}

/* Rules tight enough for a 25 % regression to matter (a fleet's own rules file may say so). */
static void tight_rules(struct rules_set *s)
{
	rules__builtin(s);
	s->latency.ratio = 1.1;
	s->latency.min_delta_ns = 100;
}

static void test_power_and_false_reverts(void **state)
{
	const struct fleet_case same = { { 300, 300, 300, 300, 300 }, { 300, 300, 300, 300, 300 }, 1, 0 };
	/* The slow hosts ran more calls after than before: summing them fakes a shift. */
	const struct fleet_case skewed = { { 900, 600, 300, 150, 100 }, { 100, 150, 300, 600, 900 }, 1, 0 };
	const struct fleet_case mild = { { 250, 250, 250, 250, 250 }, { 250, 250, 250, 250, 250 }, 1.25, 0 };
	/* Each host sees too few calls to judge (min_calls 200); together they are plenty. */
	const struct fleet_case rare = { { 120, 120, 120, 120, 120 }, { 120, 120, 120, 120, 120 }, 1, 40000 };
	struct rules_set def, tight;
	struct outcome o;

	(void)state;
	unit_rng = 0x9e3779b97f4a7c15ULL;
	rules__builtin(&def);
	tight_rules(&tight);
	o = run(&same, &tight, 400, "identical, tight rules");
	assert_int_equal(o.pooled_fail, 0);
	o = run(&skewed, &tight, 400, "identical, hosts' call mix changed, tight rules");
	assert_int_equal(o.pooled_fail, 0);
	assert_true(o.naive_fail > 300);	/* why hosts are strata, not one sample */
	o = run(&same, &def, 400, "identical, default rules");
	assert_int_equal(o.pooled_fail, 0);
	o = run(&mild, &tight, 200, "25 % slower, tight rules");
	assert_true(o.single_fail <= 20);	/* 11 of 200 */
	assert_true(o.pooled_fail >= 140);	/* 149 of 200 */
	o = run(&rare, &def, 200, "+40 us, 120 calls a host, default rules");
	assert_int_equal(o.single_fail, 0);
	assert_int_equal(o.single_inconclusive, 200);
	assert_int_equal(o.pooled_fail, 200);
}

/* One host's verdict file, written with gate's own JSON writers. */
static void write_verdict(const char *path, const char *host, const char *patch_build,
			  const char *kernel_build, const char *action, const struct lps_hist *b,
			  const struct lps_hist *o)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
			   *f = json_object_new_object();
	struct lps_identity id = { 0 };
	FILE *fp = fopen(path, "w");

	snprintf(id.host, sizeof(id.host), "%s", host);
	snprintf(id.release, sizeof(id.release), "6.12.0-test");
	snprintf(id.kernel_build_id, sizeof(id.kernel_build_id), "%s", kernel_build);
	snprintf(id.patch, sizeof(id.patch), "lp_test");
	snprintf(id.patch_build_id, sizeof(id.patch_build_id), "%s", patch_build);
	json_object_object_add(doc, "patch", json_object_new_string("lp_test"));
	json_object_object_add(doc, "identity", identity__json(&id));
	json_object_object_add(doc, "verdict", json_object_new_string("pass"));
	json_object_object_add(doc, "action", json_object_new_string(action));
	json_object_object_add(doc, "reason", json_object_new_string("no regression"));
	json_object_object_add(f, "function", json_object_new_string("loadavg_proc_show"));
	json_object_object_add(f, "object", json_object_new_string("vmlinux"));
	json_object_object_add(f, "baseline", report__stats_json(b));
	json_object_object_add(f, "observed", report__stats_json(o));
	json_object_array_add(fns, f);
	json_object_object_add(doc, "functions", fns);
	assert_non_null(fp);
	fprintf(fp, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	fclose(fp);
	json_object_put(doc);
}

static const char *file(int i)
{
	static char p[8][96];

	snprintf(p[i], sizeof(p[i]), "%s/v%d.json", unit_tmpdir, i);
	return p[i];
}

static int pool(int n, const char *extra)
{
	char *argv[12] = { "pool" };
	int argc = 1;

	if (extra)
		argv[argc++] = (char *)extra;
	for (int i = 0; i < n; i++)
		argv[argc++] = (char *)file(i);
	return do_pool(argc, argv);
}

/* Three hosts, each 120 calls a window: too few alone, a clear regression pooled. */
static void write_fleet(double add_ns, const char *third_patch_build, const char *third_host,
			const char *third_action)
{
	for (int h = 0; h < 3; h++) {
		struct lps_hist b = { 0 }, o = { 0 };

		unit__draw(&b, 120, 1 + h * 0.3, 0);
		unit__draw(&o, 120, 1 + h * 0.3, add_ns);
		write_verdict(file(h), h == 2 ? third_host : (h ? "lps-fleet-2" : "lps-fleet-1"),
			      h == 2 ? third_patch_build : "a3f0c7ae", "ffee0011",
			      h == 2 ? third_action : "kept", &b, &o);
	}
}

static void test_pool_verb(void **state)
{
	struct verdict_doc d;
	char why[256];

	(void)state;
	write_fleet(0, "a3f0c7ae", "lps-fleet-3", "kept");
	assert_int_equal(pool(3, NULL), CLI_EXIT_OK);
	assert_int_equal(pool(1, NULL), CLI_EXIT_OK);	/* one host: too few calls, kept */
	/* the first of three waves of a fleet of 9, at 3 hosts: little alpha spent */
	assert_int_equal(pool(3, "--fleet=9"), CLI_EXIT_OK);
	write_fleet(40000, "a3f0c7ae", "lps-fleet-3", "kept");
	assert_int_equal(pool(3, "--json"), CLI_EXIT_REGRESSED);
	assert_int_equal(pool(1, NULL), CLI_EXIT_OK);
	write_fleet(0, "a3f0c7ae", "lps-fleet-3", "reverted");	/* one host reverted it */
	assert_int_equal(pool(3, NULL), CLI_EXIT_REGRESSED);
	write_fleet(0, "b0000000", "lps-fleet-3", "kept");	/* another build of the patch */
	assert_int_equal(pool(3, NULL), CLI_EXIT_ERROR);
	write_fleet(0, "a3f0c7ae", "lps-fleet-1", "kept");	/* a host twice */
	assert_int_equal(pool(3, NULL), CLI_EXIT_ERROR);
	assert_int_equal(verdict_read__file(file(0), &d, why, sizeof(why)), 0);
	assert_string_equal(d.id.host, "lps-fleet-1");
	assert_int_equal(d.n, 1);
	assert_int_equal(d.fns[0].obs.calls, 120);
	assert_int_equal(hist_recorded(&d.fns[0].base), 120);
	verdict_doc__free(&d);
	assert_int_equal(pool(3, "--previous=1"), CLI_EXIT_USAGE);	/* without --fleet */
	{	/* a malformed rules file: one line, nothing read, nothing freed twice */
		char opt[128];
		FILE *fp = fopen(file(7), "w");

		fputs("defaults:\n  min_calls: many\n", fp);
		fclose(fp);
		snprintf(opt, sizeof(opt), "--rules=%s", file(7));
		assert_int_equal(pool(3, opt), CLI_EXIT_ERROR);
	}
}

/* Damaged files: one line saying what, never a verdict. */
static void test_damaged(void **state)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "{\"identity\": {", "ends early" },
		{ "[1, 2]", "not a JSON object" },
		{ "{} {}", "something follows" },
		{ "{\"verdict\": \"pass\"}", "no \"identity\"" },
		{ "{\"identity\": {\"kernel\": {}, \"patch\": {}}, \"verdict\": \"pass\", \"action\": "
		  "\"kept\", \"reason\": \"\", \"functions\": [{\"function\": \"f\", \"object\": \"o\", "
		  "\"observed\": {\"calls\": 1, \"errors\": 0, \"unmatched\": 0, \"max_ns\": 9, "
		  "\"recorded\": 1, \"mean_ns\": 5, \"histogram\": [{\"ge_ns\": 5, \"le_ns\": 7, "
		  "\"count\": 1}]}}]}", "not one of lpsentinel's buckets" },
		{ "{\"identity\": {\"kernel\": {}, \"patch\": {}}, \"verdict\": \"pass\", \"action\": "
		  "\"kept\", \"reason\": \"\", \"functions\": [{\"function\": \"f\", \"object\": \"o\", "
		  "\"observed\": {\"calls\": 1, \"errors\": -1, \"unmatched\": 0, \"max_ns\": 9, "
		  "\"recorded\": 0, \"mean_ns\": 5, \"histogram\": []}}]}", "negative" },
		{ "{\"identity\": {\"kernel\": {}, \"patch\": {}}, \"verdict\": \"pass\", \"action\": "
		  "\"kept\", \"reason\": \"\", \"functions\": [{\"function\": \"f\", \"object\": \"o\", "
		  "\"observed\": {\"calls\": 1, \"errors\": 0, \"unmatched\": 0, \"max_ns\": 9, "
		  "\"recorded\": 2, \"mean_ns\": 5, \"histogram\": [{\"ge_ns\": 5, \"le_ns\": 5, "
		  "\"count\": 1}]}}]}", "\"recorded\" says 2" },
		{ "{\"identity\": {\"kernel\": {}, \"patch\": {}}, \"verdict\": \"pa\\u001bss\", "
		  "\"action\": \"kept\", \"reason\": \"\", \"functions\": []}", "control character" },
		{ "{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "nesting" },
	};
	char path[96], why[256];
	struct verdict_doc d;

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.json", unit_tmpdir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *fp = fopen(path, "w");

		fputs(bad[i].text, fp);
		fclose(fp);
		assert_int_not_equal(verdict_read__file(path, &d, why, sizeof(why)), 0);
		print_message("damaged [%zu]: %s\n", i, why);
		assert_non_null(strstr(why, bad[i].why));
	}
	assert_int_not_equal(verdict_read__file(unit_tmpdir, &d, why, sizeof(why)), 0);	/* a directory */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_and_false_reverts),
		cmocka_unit_test(test_pool_verb),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
