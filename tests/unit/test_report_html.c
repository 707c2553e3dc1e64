// SPDX-License-Identifier: GPL-2.0
/*
 * The HTML report: what gate writes (checks with thresholds, the timeline)
 * read back through the one verdict reader; hostile strings escaped; empty,
 * missing and huge histograms drawn; a page that can load nothing; the page
 * written whole or not at all; the audit trail's period; and every verdict
 * of the fuzz corpus rendered without a crash.
 */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <cmocka.h>
#include "audit_read.h"
#include "hist.h"
#include "identity.h"
#include "judge.h"
#include "report.h"
#include "report_html.h"
#include "rules.h"
#include "svg_plot.h"
#include "timeline.h"
#include "unit.h"
#include "verdict_report.h"

#define HOSTILE "<script>alert(\"x\")</script>&'<img src=http://e.x/>"

/* A gate-shaped verdict made by the writers gate uses. */
static struct json_object *verdict(const char *fname, const struct lps_hist *b,
				   const struct lps_hist *o, bool with_timeline)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array();
	struct json_object *f = json_object_new_object(), *sys = json_object_new_object(), *checks;
	struct lps_identity id = { .host = "h<1>", .release = "6.12", .patch = "lp_x" };
	struct check_result c[2] = {
		{ .check = "latency", .result = VERDICT_FAIL, .p = 1e-9, .detail = HOSTILE },
		{ .check = "errors", .result = VERDICT_PASS, .p = 0.5, .detail = "0 errors" },
	};
	struct rules_set r;

	rules__builtin(&r);
	json_object_object_add(doc, "patch", json_object_new_string("lp_x"));
	json_object_object_add(doc, "identity", identity__json(&id));
	json_object_object_add(doc, "verdict", json_object_new_string("fail"));
	json_object_object_add(doc, "action", json_object_new_string("reverted"));
	json_object_object_add(doc, "reason", json_object_new_string(HOSTILE));
	json_object_object_add(doc, "looks", json_object_new_int(2));
	json_object_object_add(f, "function", json_object_new_string(fname));
	json_object_object_add(f, "object", json_object_new_string("vmlinux"));
	json_object_object_add(f, "verdict", json_object_new_string("fail"));
	json_object_object_add(f, "baseline", b ? report__stats_json(b) : NULL);
	json_object_object_add(f, "observed", report__stats_json(o));
	checks = verdict_report__checks_json(c, 2);
	verdict_report__add_thresholds(checks, &r, 2.5e-5, false);
	json_object_object_add(f, "checks", checks);
	json_object_array_add(fns, f);
	json_object_object_add(doc, "functions", fns);
	json_object_object_add(sys, "checks", json_object_new_array());
	json_object_object_add(sys, "kernel_faults", json_object_new_array());
	json_object_object_add(doc, "system", sys);
	if (with_timeline) {
		struct timeline t;
		struct func_judgement fj = { .checks = { c[0], c[1] }, .n = 2 };
		const char *names[] = { fname };

		timeline__init(&t);
		t.t_load = 100;
		t.baseline_s = 4;
		t.transition_s = 0.5;
		assert_int_equal(timeline__look(&t, 101.5, o, r.alpha, 0.1, "continue", &fj, names,
						1, 1, NULL), 0);
		assert_int_equal(timeline__look(&t, 102.5, o, r.alpha, 0.2, "revert", &fj, names, 1,
						1, NULL), 0);
		t.revert_start_s = 2.6;
		t.revert_end_s = 3.1;
		t.revert_result = "unloaded";
		json_object_object_add(doc, "timeline", timeline__json(&t));
		timeline__free(&t);
	}
	return doc;
}

/* doc rendered as a page in memory; the page, malloc'd. */
static char *render(struct json_object *doc, struct report_verdict *v)
{
	const char *text = json_object_to_json_string(doc);
	struct report_page p = { .title = "t<i>tle", .v = v, .nv = 1 };
	char why[256], *page = NULL;
	size_t n;
	FILE *f;

	v->source = "src\"<";
	if (verdict_read__buf_detail(text, strlen(text), &v->doc, &v->more, why, sizeof(why)))
		fail_msg("not read back: %s", why);
	f = open_memstream(&page, &n);
	report_html__page(f, &p);
	fclose(f);
	return page;
}

/*
 * Nothing in page can run or fetch anything: no element that loads, no
 * style url(), no link but to its own sections (an address may be text).
 */
static void assert_self_contained(const char *page)
{
	static const char *const never[] = { "<script", "<img", "<link", "<iframe", "<object",
					     "<embed", "<base", "url(", "@import" };

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strstr(page, never[i]))
			fail_msg("the page has %s", never[i]);
	for (const char *h = page; (h = strstr(h, "href=")); h++)
		assert_memory_equal(h, "href=\"#", 7);
	assert_non_null(strstr(page, "Content-Security-Policy\" content=\"default-src 'none'"));
	assert_non_null(strstr(page, "</html>"));
}

static void test_roundtrip_and_escaping(void **state)
{
	struct lps_hist *b = calloc(1, sizeof(*b)), *o = calloc(1, sizeof(*o));
	struct report_verdict v = { 0 };
	struct json_object *doc;
	char *page;

	(void)state;
	unit__draw(b, 5000, 1, 0);
	unit__draw(o, 5000, 3, 20000);
	doc = verdict("f<script>", b, o, true);
	page = render(doc, &v);
	/* What gate wrote came back: thresholds, alpha, the looks and the revert. */
	assert_int_equal(v.more.fns[0].n, 2);
	assert_string_equal(v.more.fns[0].checks[0].thresholds, "ratio 1.5, min_delta_ns 20000");
	assert_true(fabs(v.more.fns[0].checks[0].alpha - 2.5e-5) < 1e-12);
	assert_int_equal(v.more.ntl, 2);
	assert_string_equal(v.more.tl[1].decision, "revert");
	assert_string_equal(v.more.tl[1].check, "latency");
	assert_true(fabs(v.more.tl[1].alpha - 0.2 * 0.001) < 1e-12);
	assert_true(fabs(v.more.tl[0].t_s - 1.5) < 1e-9);
	assert_int_equal(v.more.tl[0].calls, 5000);
	assert_true(v.more.have_revert);
	assert_string_equal(v.more.revert_result, "unloaded");
	assert_true(fabs(v.more.completed_s - 0.5) < 1e-9);
	/* Every hostile string escaped, the page loads nothing. */
	assert_self_contained(page);
	assert_non_null(strstr(page, "f&lt;script&gt;"));
	assert_non_null(strstr(page, "alert(&quot;x&quot;)"));
	assert_non_null(strstr(page, "&amp;&#39;&lt;img"));
	assert_non_null(strstr(page, "t&lt;i&gt;tle"));
	assert_non_null(strstr(page, "h&lt;1&gt;"));
	/* A histogram plot per function, the looks and the course: 3 plots. */
	assert_non_null(strstr(page, "aria-label=\"latency histograms before and after\""));
	assert_non_null(strstr(page, "aria-label=\"looks over time\""));
	assert_non_null(strstr(page, "p99"));
	free(page);
	verdict_doc__free(&v.doc);
	verdict_detail__free(&v.more);
	json_object_put(doc);
	free(b);
	free(o);
}

static void test_empty_missing_huge(void **state)
{
	struct lps_hist *b = calloc(1, sizeof(*b)), *o = calloc(1, sizeof(*o));
	struct report_verdict v = { 0 };
	struct json_object *doc;
	char *page;

	(void)state;
	/* 0 calls after, no baseline at all, no timeline (the daemon's shape). */
	doc = verdict("f", NULL, o, false);
	page = render(doc, &v);
	assert_self_contained(page);
	assert_non_null(strstr(page, "no latency recorded in either window"));
	assert_non_null(strstr(page, "no baseline"));
	assert_non_null(strstr(page, "has no timeline"));
	assert_null(strstr(page, "nan"));
	assert_null(strstr(page, "inf\""));
	free(page);
	verdict_doc__free(&v.doc);
	verdict_detail__free(&v.more);
	json_object_put(doc);
	/* Counts as large as a verdict may hold, in the first and the last bucket. */
	b->buckets[0] = 1ULL << 52;
	b->buckets[HIST_BUCKETS - 1] = 1ULL << 52;
	b->calls = 1ULL << 53;
	b->max_ns = hist_bucket_upper(HIST_BUCKETS - 1) - 1;
	o->buckets[HIST_BUCKETS - 1] = 1ULL << 53;
	o->calls = 1ULL << 53;
	o->max_ns = b->max_ns;
	memset(&v, 0, sizeof(v));
	doc = verdict("f", b, o, true);
	page = render(doc, &v);
	assert_self_contained(page);
	assert_null(strstr(page, "nan"));
	free(page);
	verdict_doc__free(&v.doc);
	verdict_detail__free(&v.more);
	json_object_put(doc);
	free(b);
	free(o);
}

static void test_bad_details(void **state)
{
	static const char *const bad[][2] = {
		{ "\"timeline\": {\"looks\": 3}", "timeline.looks is not an array" },
		{ "\"timeline\": {\"looks\": [{\"t_s\": 1, \"calls\": 1, \"alpha\": 0.1}]}",
		  "timeline.looks[0].decision" },
		{ "\"timeline\": {\"looks\": [{\"t_s\": \"x\"}]}", "t_s is not a number" },
		{ "\"system\": {\"checks\": [{\"check\": \"x\", \"result\": \"pass\", \"p\": \"1\"}]}",
		  "system.checks[0].p" },
		{ "\"system\": {\"checks\": [{\"check\": \"x\", \"result\": \"pass\", "
		  "\"thresholds\": {\"<b>\": 1}}]}", "not a setting" },
		{ "\"operational\": 1", "operational" },
		{ "\"timeline\": {\"looks\": [{\"t_s\": 1e308, \"calls\": 1, \"alpha\": 0.1, "
		  "\"decision\": \"pass\"}]}", "timeline.looks[0].t_s is 1e+308, not 0 to" },
		{ "\"timeline\": {\"baseline_s\": -5}", "timeline.baseline_s is -5" },
		{ "\"timeline\": {\"transition\": {\"completed_s\": 2e7}}", "completed_s is 2e+07" },
		{ "\"timeline\": {\"revert\": {\"started_s\": -1e308}}", "started_s" },
		{ "\"timeline\": {\"revert\": {\"ended_s\": 1e9}}", "ended_s" },
		{ "\"system\": {\"stalled_transition\": {\"transition_info\": {\"elapsed_s\": "
		  "1e300}}}", "transition_info.elapsed_s" },
	};
	char text[1024], why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct verdict_doc d;
		struct verdict_detail m;

		snprintf(text, sizeof(text), "{\"identity\": {\"kernel\": {}, \"patch\": {}}, "
			 "\"verdict\": \"pass\", \"action\": \"kept\", \"reason\": \"\", "
			 "\"functions\": [], %s}", bad[i][0]);
		assert_int_not_equal(verdict_read__buf_detail(text, strlen(text), &d, &m, why,
							      sizeof(why)), 0);
		print_message("bad [%zu]: %s\n", i, why);
		assert_non_null(strstr(why, bad[i][1]));
		/* pool's reader does not read these parts: the same file passes there */
		assert_int_equal(verdict_read__buf(text, strlen(text), &d, why, sizeof(why)), 0);
		verdict_doc__free(&d);
	}
}

static void test_write_whole(void **state)
{
	struct report_page p = { .title = "x" };
	char path[128], why[256];
	struct dirent *e;
	DIR *dir;
	size_t n = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.html", unit_tmpdir);
	assert_int_equal(report_html__write(path, &p, why, sizeof(why)), 0);
	assert_int_equal(access(path, R_OK), 0);
	dir = opendir(unit_tmpdir);
	while ((e = readdir(dir)))
		n += !!strstr(e->d_name, ".tmp.");	/* no temporary file left */
	closedir(dir);
	assert_int_equal(n, 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/out.html", unit_tmpdir);
	assert_int_not_equal(report_html__write(path, &p, why, sizeof(why)), 0);
	print_message("unwritable: %s\n", why);
}

/* Only a missing or regular file is replaced: never a device, fifo, directory or symlink. */
static void test_write_target(void **state)
{
	struct report_page p = { .title = "x" };
	char path[128], link[160], why[256];
	struct stat st;
	mode_t old;

	(void)state;
	/*
	 * A device node of our own (a copy of /dev/null's numbers) in the test's
	 * directory, never /dev itself: a regression must not replace a real one.
	 * Making one needs CAP_MKNOD; without it that part is skipped.
	 */
	snprintf(path, sizeof(path), "%s/null", unit_tmpdir);
	if (!mknod(path, S_IFCHR | 0600, makedev(1, 3))) {
		assert_int_not_equal(report_html__write(path, &p, why, sizeof(why)), 0);
		print_message("device: %s\n", why);
		assert_non_null(strstr(why, "a device"));
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/fifo", unit_tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_not_equal(report_html__write(path, &p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "a fifo"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	unlink(path);
	assert_int_not_equal(report_html__write(unit_tmpdir, &p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "a directory"));
	snprintf(path, sizeof(path), "%s/real.html", unit_tmpdir);
	snprintf(link, sizeof(link), "%s/link.html", unit_tmpdir);
	assert_int_equal(report_html__write(path, &p, why, sizeof(why)), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_not_equal(report_html__write(link, &p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(link);
	assert_int_not_equal(report_html__write("", &p, why, sizeof(why)), 0);
	/* The page's mode follows the umask, as any file the user creates. */
	old = umask(027);
	assert_int_equal(report_html__write(path, &p, why, sizeof(why)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	unlink(path);
}

static void test_audit_period(void **state)
{
	struct lps_hist *o = calloc(1, sizeof(*o));
	struct json_object *doc;
	struct report_audit_row *rows;
	struct report_verdict *v;
	struct audit_period p = { .since = "2026-12-02T10", .until = "2026-12-02T11" };
	char path[128], why[256];
	size_t n, nv, left;
	FILE *f;

	(void)state;
	unit__draw(o, 300, 1, 0);
	doc = verdict("f", o, o, false);
	json_object_object_add(doc, "time", json_object_new_string("2026-12-02T11:59:59Z"));
	json_object_object_add(doc, "event", json_object_new_string("verdict"));
	snprintf(path, sizeof(path), "%s/audit.jsonl", unit_tmpdir);
	f = fopen(path, "w");
	fprintf(f, "{\"time\":\"2026-12-02T09:00:00Z\",\"event\":\"verdict\",\"patch\":\"a\"}\n");
	fprintf(f, "{\"time\":\"2026-12-02T10:00:00Z\",\"event\":\"resumed\",\"patch\":\"<b>\"}\n");
	fprintf(f, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	fprintf(f, "{\"time\":\"2026-12-02T12:00:00Z\",\"event\":\"verdict\",\"patch\":\"c\"}\n");
	fclose(f);
	json_object_put(doc);
	assert_int_equal(audit_read__file(path, &p, &rows, &n, &left, &v, &nv, why, sizeof(why)), 0);
	assert_int_equal(n, 2);		/* 10:00 and 11:59:59, not 09:00 or 12:00 */
	assert_int_equal(left, 0);
	assert_int_equal(nv, 1);
	assert_int_equal(rows[0].verdict_idx, -1);
	assert_int_equal(rows[1].verdict_idx, 0);
	assert_string_equal(v[0].doc.fns[0].function, "f");
	audit_read__free(rows, v, nv);
	/* A line that is not a record: refused with its number. */
	f = fopen(path, "a");
	fprintf(f, "{\"time\":\"2026-12-02T10:30:00Z\",\"event\":\"resumed\",\"patch\":\"c\"}\n[1]\n");
	fclose(f);
	assert_int_not_equal(audit_read__file(path, &p, &rows, &n, &left, &v, &nv, why, sizeof(why)), 0);
	print_message("damaged trail: %s\n", why);
	assert_non_null(strstr(why, "line 6"));
	assert_false(audit_read__time_ok("2026-13-0x"));
	assert_false(audit_read__time_ok(""));
	assert_true(audit_read__time_ok("2026-12"));
	free(o);
}

/* Impossible times, a period turned round, a field of the wrong type, a document that is no object. */
static void test_bad_times_and_rows(void **state)
{
	static const char *const bad_time[] = { "2026-13", "2026-00", "2026-2", "2026-12-32",
		"2026-12-00", "2026-12-4", "2026-12-02T24", "2026-12-02T3", "2026-12-02T23:60",
		"2026-12-02T23:59:60Z", "9999-99-99T99:99:99Z" };
	static const char *const good_time[] = { "2026-1", "2026-0", "2026-12-3",
		"2026-12-31T23:59:59Z", "2026-02-01T00:00:00Z" };
	static const char *const bad_row[][2] = {
		{ "{\"time\":\"2026-12-02T10:00:00Z\",\"event\":\"verdict\",\"operational\":\"yes\"}",
		  "line 1: operational is not a boolean" },
		{ "{\"time\":\"2026-12-02T10:00:00Z\",\"event\":\"resumed\",\"verdict\":1}",
		  "line 1: verdict is not a string" },
		{ "{\"time\":\"9999-99-99T99:99:99Z\",\"event\":\"resumed\"}",
		  "line 1: time is not a UTC time" },
	};
	static const char *const not_object[] = { "1", "null", "1\n", "\"x\"", "[1]", "true" };
	struct audit_period open_p = { 0 };
	struct report_audit_row *rows;
	struct report_verdict *v;
	struct verdict_doc d;
	char path[128], why[256];
	size_t n, nv, left;
	FILE *f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_time) / sizeof(bad_time[0]); i++)
		if (audit_read__time_ok(bad_time[i]))
			fail_msg("%s taken as a time", bad_time[i]);
	for (size_t i = 0; i < sizeof(good_time) / sizeof(good_time[0]); i++)
		if (!audit_read__time_ok(good_time[i]))
			fail_msg("%s refused as a time", good_time[i]);
	assert_false(audit_read__period_ok(&(struct audit_period){ "2026-12-03", "2026-12-02" }));
	assert_true(audit_read__period_ok(&(struct audit_period){ "2026-12-02T10", "2026-12-02" }));
	assert_true(audit_read__period_ok(&(struct audit_period){ "2026-12-01", "2026-12-02" }));
	snprintf(path, sizeof(path), "%s/bad.jsonl", unit_tmpdir);
	for (size_t i = 0; i < sizeof(bad_row) / sizeof(bad_row[0]); i++) {
		f = fopen(path, "w");
		fprintf(f, "%s\n", bad_row[i][0]);
		fclose(f);
		assert_int_not_equal(audit_read__file(path, &open_p, &rows, &n, &left, &v, &nv, why,
						      sizeof(why)), 0);
		print_message("bad row [%zu]: %s\n", i, why);
		assert_string_equal(why, bad_row[i][1]);
	}
	for (size_t i = 0; i < sizeof(not_object) / sizeof(not_object[0]); i++) {
		assert_int_not_equal(verdict_read__buf(not_object[i], strlen(not_object[i]), &d, why,
						       sizeof(why)), 0);
		print_message("%s: %s\n", not_object[i], why);
		assert_string_equal(why, "not a JSON object");
	}
	assert_int_not_equal(verdict_read__buf("{\"a\":", 5, &d, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "ends early"));
}

/* A long trail: the newest rows of the period kept, the earlier counted; blank lines cost nothing. */
static void test_audit_cap(void **state)
{
	struct audit_period p = { .since = "2026-12-03" };
	struct report_audit_row *rows;
	struct report_verdict *v;
	struct report_page pg = { .title = "x" };
	size_t total = AUDIT_READ_MAX_ROWS + 123, n, nv, left;
	char path[128], why[256], nl[1000], *page = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/long.jsonl", unit_tmpdir);
	f = fopen(path, "w");
	fprintf(f, "{\"time\":\"2026-12-02T23:00:00Z\",\"event\":\"resumed\"}\n");
	for (size_t i = 0; i < total; i++)
		fprintf(f, "{\"time\":\"2026-12-03T%02zu:%02zu:%02zuZ\",\"event\":\"resumed\","
			"\"patch\":\"p%zu\"}\n", i / 3600 % 24, i / 60 % 60, i % 60, i);
	/* 50 MB of newlines: counted, not a row each (once a calloc of 64 GB). */
	memset(nl, '\n', sizeof(nl));
	for (size_t i = 0; i < 50 * 1000; i++)
		assert_int_equal(fwrite(nl, 1, sizeof(nl), f), sizeof(nl));
	fclose(f);
	assert_int_equal(audit_read__file(path, &p, &rows, &n, &left, &v, &nv, why, sizeof(why)), 0);
	assert_int_equal(n, AUDIT_READ_MAX_ROWS);
	assert_int_equal(left, 123);
	assert_string_equal(rows[0].patch, "p123");		/* oldest kept */
	assert_string_equal(rows[n - 1].patch, "p10122");	/* the newest */
	pg.audit = rows;
	pg.naudit = n;
	pg.audit_left_out = left;
	f = open_memstream(&page, &n);
	report_html__page(f, &pg);
	fclose(f);
	assert_non_null(strstr(page, "123 earlier decisions of the period are left out"));
	free(page);
	audit_read__free(rows, v, nv);
	unlink(path);
}

/* Functions and looks summed over a page's verdicts: beyond the limits, refused naming them. */
static void test_totals(void **state)
{
	struct report_verdict v[5] = { 0 };
	char why[256];

	(void)state;
	for (size_t i = 0; i < 4; i++)
		v[i].doc.n = REPORT_MAX_FUNCS / 4;

	assert_int_equal(report_html__check_totals(v, 4, why, sizeof(why)), 0);
	v[4].doc.n = 1;
	assert_int_equal(report_html__check_totals(v, 5, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "more than 4096 functions"));
	v[4].doc.n = 0;
	v[4].more.ntl = REPORT_MAX_LOOKS + 1;
	assert_int_equal(report_html__check_totals(v, 5, why, sizeof(why)), -E2BIG);
	assert_non_null(strstr(why, "looks"));
}

/* The plots' belt: far times given to them directly still print finite coordinates. */
static void test_plot_finite(void **state)
{
	struct vd_look l[2] = {
		{ .t_s = -1e308, .alpha = 0.1, .p = 0, .decision = "pass" },
		{ .t_s = 1e308, .alpha = 0, .p = 1, .decision = "revert" },
	};
	struct verdict_detail d = { .tl = l, .ntl = 2, .baseline_s = -1e308, .completed_s = 1e308,
				    .have_revert = true, .revert_start_s = 1e308,
				    .revert_end_s = 1e308, .revert_result = "unloaded" };
	char *page = NULL;
	size_t n;
	FILE *f = open_memstream(&page, &n);

	(void)state;
	svg_plot__looks(f, l, 2);
	svg_plot__course(f, &d);
	fclose(f);
	assert_null(strstr(page, "nan"));
	assert_null(strstr(page, "inf"));
	free(page);
}

/* Every verdict of the fuzz corpus: read, and either refused or rendered whole. */
static void test_corpus(void **state)
{
	static const char *const dirs[] = { "tests/fuzz/corpus/verdict", "tests/report/data" };
	size_t rendered = 0;

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		DIR *dir = opendir(dirs[k]);
		struct dirent *e;

		while (dir && (e = readdir(dir))) {
			struct report_verdict v = { .source = e->d_name };
			struct report_page p = { .title = "c", .v = &v, .nv = 1 };
			char path[512], why[256], *page = NULL;
			size_t n;
			FILE *f;

			n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 5, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[k], e->d_name);
			if (verdict_read__file_detail(path, &v.doc, &v.more, why, sizeof(why))) {
				print_message("%s: refused: %s\n", path, why);
				continue;
			}
			f = open_memstream(&page, &n);
			report_html__page(f, &p);
			fclose(f);
			assert_self_contained(page);
			rendered++;
			free(page);
			verdict_doc__free(&v.doc);
			verdict_detail__free(&v.more);
		}
		if (dir)
			closedir(dir);
	}
	assert_true(rendered >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_escaping),
		cmocka_unit_test(test_empty_missing_huge),
		cmocka_unit_test(test_bad_details),
		cmocka_unit_test(test_write_whole),
		cmocka_unit_test(test_write_target),
		cmocka_unit_test(test_plot_finite),
		cmocka_unit_test(test_audit_cap),
		cmocka_unit_test(test_bad_times_and_rows),
		cmocka_unit_test(test_totals),
		cmocka_unit_test(test_audit_period),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}
