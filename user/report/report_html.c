// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hist.h"
#include "html.h"
#include "report_html.h"
#include "svg_plot.h"
#include "verdict_read_int.h"

/* <td> with s escaped, in its result's colour when it is one. */
static void td(FILE *f, const char *s)
{
	const char *c = html__result_class(s);

	fprintf(f, "<td%s%s%s>", *c ? " class=\"" : "", c, *c ? "\"" : "");
	html__text(f, s);
	fputs("</td>", f);
}

static void row(FILE *f, const char *key, const char *val)
{
	if (!val || !*val)
		return;
	fprintf(f, "<tr><th>%s</th>", key);	/* key: our own text */
	td(f, val);
	fputs("</tr>\n", f);
}

static void tag(FILE *f, const char *s)
{
	fprintf(f, "<span class=\"tag %s\">", html__result_class(s));
	html__text(f, s);
	fputs("</span>", f);
}

static void fmt_p(char *buf, size_t len, double p)
{
	snprintf(buf, len, p >= 1 ? "1" : p >= 0.001 ? "%.4f" : "%.3g", p);
}

static void checks_table(FILE *f, const struct vd_check *c, size_t n)
{
	if (!n) {
		fputs("<p class=\"muted\">no checks were run</p>\n", f);
		return;
	}
	fputs("<table><tr><th>check</th><th>result</th><th>p</th><th>alpha</th>"
	      "<th>thresholds</th><th>evidence</th></tr>\n", f);
	for (size_t k = 0; k < n; k++) {
		char p[32], a[32] = "";

		fmt_p(p, sizeof(p), c[k].p);
		if (c[k].alpha >= 0)
			snprintf(a, sizeof(a), "%.3g", c[k].alpha);
		fputs("<tr>", f);
		td(f, c[k].check);
		td(f, c[k].result);
		fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td>", p, a);
		td(f, c[k].thresholds);
		fputs("<td>", f);
		html__text(f, c[k].detail);
		if (c[k].coverage[0]) {
			fputs("<br><span class=\"muted\">coverage: ", f);
			html__text(f, c[k].coverage);
			fputs("</span>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void stat_cells(FILE *f, const struct lps_hist *h)
{
	static const double q[] = { 0.5, 0.9, 0.99 };
	char t[32];

	if (!h) {
		fputs("<td colspan=\"7\" class=\"muted\">no baseline</td>", f);
		return;
	}
	fprintf(f, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
		(unsigned long long)h->calls, (unsigned long long)h->errors,
		(unsigned long long)hist_recorded(h));
	for (size_t k = 0; k < 3; k++) {
		fmt_ns(t, sizeof(t), hist_percentile(h, q[k]));
		fprintf(f, "<td class=\"n\">%s</td>", hist_recorded(h) ? t : "-");
	}
	fmt_ns(t, sizeof(t), (double)h->max_ns);
	fprintf(f, "<td class=\"n\">%s</td>", hist_recorded(h) ? t : "-");
}

static void function_section(FILE *f, const struct verdict_fn *fn, const struct vd_fn *m)
{
	fputs("<h3>", f);
	html__text(f, fn->function);
	fputs(" <span class=\"muted\">(", f);
	html__text(f, fn->object);
	if (m->attach[0]) {
		fputs(", ", f);
		html__text(f, m->attach);
	}
	fputs(")</span> ", f);
	tag(f, m->verdict[0] ? m->verdict : "unknown");
	fputs("</h3>\n<table><tr><th>window</th><th>calls</th><th>errors</th><th>latencies</th>"
	      "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n<tr><th>before</th>", f);
	stat_cells(f, fn->none ? NULL : &fn->base);
	fputs("</tr>\n<tr><th>after</th>", f);
	stat_cells(f, &fn->obs);
	fputs("</tr></table>\n", f);
	svg_plot__hist(f, fn->none ? NULL : &fn->base, &fn->obs);
	checks_table(f, m->checks, m->n);
}

static void looks_section(FILE *f, const struct verdict_detail *d)
{
	fputs("<h3>Looks</h3>\n", f);
	if (!d->ntl) {
		fputs("<p class=\"muted\">no look was judged</p>\n", f);
		return;
	}
	svg_plot__looks(f, d->tl, d->ntl);
	fputs("<p class=\"muted\">A check fails when its p is below the look's alpha (above the "
	      "dashed line) and its practical thresholds are met too; a p above the line with a "
	      "pass is a difference too small to matter.</p>\n", f);
	if (d->not_listed)
		fprintf(f, "<p class=\"muted\">%llu looks before the last one are not listed</p>\n",
			(unsigned long long)d->not_listed);
	fputs("<table><tr><th>t (s)</th><th>calls after</th><th>alpha</th><th>decision</th>"
	      "<th>deciding check</th><th>function</th><th>result</th><th>p</th></tr>\n", f);
	for (size_t i = 0; i < d->ntl; i++) {
		const struct vd_look *l = &d->tl[i];
		char p[32];

		fmt_p(p, sizeof(p), l->p);
		fprintf(f, "<tr><td class=\"n\">%.2f</td><td class=\"n\">%llu</td>"
			"<td class=\"n\">%.3g</td>", l->t_s, (unsigned long long)l->calls, l->alpha);
		td(f, l->decision);
		td(f, l->check);
		td(f, l->function[0] ? l->function : l->check[0] ? "system" : "");
		td(f, l->result);
		fprintf(f, "<td class=\"n\">%s</td></tr>\n", p);
	}
	fputs("</table>\n", f);
}

static void transition_section(FILE *f, const struct verdict_detail *d)
{
	char t[64];

	fputs("<h3>Transition and revert</h3>\n<table>\n", f);
	row(f, "transition", d->transition[0] ? d->transition : d->have_stall ? "stalled" : "");
	if (d->completed_s >= 0) {
		snprintf(t, sizeof(t), "%.3f s after the load", d->completed_s);
		row(f, "completed", t);
	}
	if (d->have_stall && d->stall_elapsed_s >= 0) {
		snprintf(t, sizeof(t), "%.1f s", d->stall_elapsed_s);
		row(f, "stalled for", t);
	}
	if (d->have_revert) {
		snprintf(t, sizeof(t), "%.3f s after the load", d->revert_start_s);
		row(f, "revert started", d->revert_start_s >= 0 ? t : "");
		snprintf(t, sizeof(t), "%.3f s after the load", d->revert_end_s);
		row(f, "revert ended", d->revert_end_s >= 0 ? t : "");
		row(f, "after the revert", d->revert_result);
	}
	row(f, "revert error", d->revert_error);
	row(f, "revert overrun", d->revert_overrun);
	fputs("</table>\n", f);
	if (!d->nblockers)
		return;
	fputs("<p>Tasks that held the transition, with their kernel stacks:</p>\n"
	      "<table><tr><th>pid</th><th>command</th><th>stack</th></tr>\n", f);
	for (size_t i = 0; i < d->nblockers; i++) {
		fprintf(f, "<tr><td class=\"n\">%lld</td>", (long long)d->blockers[i].pid);
		td(f, d->blockers[i].comm);
		fputs("<td><pre>", f);
		html__text(f, d->blockers[i].stack[0] ? d->blockers[i].stack : "(unreadable)");
		fputs("</pre></td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void verdict_section(FILE *f, const struct report_verdict *v, size_t idx)
{
	const struct verdict_doc *d = &v->doc;
	const struct verdict_detail *m = &v->more;
	char t[64];

	fprintf(f, "<section id=\"v%zu\">\n<h2>", idx);
	html__text(f, m->patch[0] ? m->patch : d->id.patch[0] ? d->id.patch : "verdict");
	fputs(": ", f);
	tag(f, d->verdict);
	fputs(" ", f);
	tag(f, d->action);
	fputs("</h2>\n<table>\n", f);
	row(f, "reason", d->reason);
	row(f, "from", v->source);
	row(f, "host", d->id.host);
	row(f, "kernel", d->id.release);
	row(f, "kernel build id", d->id.kernel_build_id);
	row(f, "patch build id", d->id.patch_build_id);
	row(f, "module parameters", m->params);
	row(f, "inconclusive policy", m->policy);
	snprintf(t, sizeof(t), "%llu", (unsigned long long)m->looks);
	row(f, "looks", m->looks ? t : "");
	row(f, "operational stop", m->operational ? "yes: reverted because it could not be judged"
						  : "");
	fputs("</table>\n", f);
	if (m->have_timeline) {
		fputs("<h3>Course</h3>\n", f);
		svg_plot__course(f, m);
		looks_section(f, m);
	} else {
		fputs("<p class=\"muted\">This verdict has no timeline (written by an "
		      "lpsentinel older than the report).</p>\n", f);
	}
	transition_section(f, m);
	fputs("<h3>System checks</h3>\n", f);
	checks_table(f, m->sys, m->nsys);
	if (d->sys_faults) {
		fprintf(f, "<h3>Kernel log: %zu fault%s</h3>\n", d->sys_faults,
			d->sys_faults == 1 ? "" : "s");
		for (size_t i = 0; i < m->nfaults; i++) {
			fputs("<pre>", f);
			html__text(f, m->faults[i]);
			fputs("</pre>\n", f);
		}
	}
	fprintf(f, "<h2>Functions (%zu)</h2>\n", d->n);
	for (size_t i = 0; i < d->n; i++)
		function_section(f, &d->fns[i], &m->fns[i]);
	fputs("</section>\n", f);
}

static void audit_section(FILE *f, const struct report_page *p)
{
	fputs("<section id=\"audit\"><h2>Audit trail</h2>\n<p>", f);
	html__text(f, p->audit_period ? p->audit_period : "");
	fprintf(f, ": %zu decision%s.", p->naudit, p->naudit == 1 ? "" : "s");
	if (p->audit_left_out)
		fprintf(f, " The newest are shown: %zu earlier decision%s of the period %s left out.",
			p->audit_left_out, p->audit_left_out == 1 ? "" : "s",
			p->audit_left_out == 1 ? "is" : "are");
	fputs("</p>\n", f);
	if (!p->naudit)
		goto out;
	fputs("<table><tr><th>time (UTC)</th><th>event</th><th>patch</th><th>verdict</th>"
	      "<th>action</th><th>reason</th><th>evidence</th></tr>\n", f);
	for (size_t i = 0; i < p->naudit; i++) {
		const struct report_audit_row *r = &p->audit[i];

		fputs("<tr>", f);
		td(f, r->time);
		td(f, r->event);
		td(f, r->patch);
		td(f, r->verdict);
		td(f, r->action);
		fputs("<td>", f);
		html__text(f, r->reason);
		if (r->operational)
			fputs(" <span class=\"muted\">(operational)</span>", f);
		if (r->verdict_idx >= 0)
			fprintf(f, "</td><td><a href=\"#v%d\">verdict</a></td></tr>\n", r->verdict_idx);
		else
			fputs("</td><td class=\"muted\">-</td></tr>\n", f);
	}
	fputs("</table>\n", f);
out:
	fputs("</section>\n", f);
}

int report_html__check_totals(const struct report_verdict *v, size_t nv, char *why, size_t len)
{
	size_t fns = 0, looks = 0;

	for (size_t i = 0; i < nv; i++) {
		fns += v[i].doc.n;
		looks += v[i].more.ntl;
	}
	if (fns > REPORT_MAX_FUNCS)
		return snprintf(why, len, "the verdicts hold more than %d functions, the most one "
				"page shows", REPORT_MAX_FUNCS), -E2BIG;
	if (looks > REPORT_MAX_LOOKS)
		return snprintf(why, len, "the verdicts hold more than %d looks, the most one page "
				"shows", REPORT_MAX_LOOKS), -E2BIG;
	return 0;
}

void report_html__page(FILE *f, const struct report_page *p)
{
	html__head(f, p->title);
	if (p->nv > 1 || p->audit) {
		fputs("<p>", f);
		for (size_t i = 0; i < p->nv; i++) {
			fprintf(f, "%s<a href=\"#v%zu\">", i ? " | " : "", i);
			html__text(f, p->v[i].more.patch[0] ? p->v[i].more.patch : p->v[i].source);
			fputs("</a>", f);
		}
		fputs("</p>\n", f);
	}
	if (p->audit)
		audit_section(f, p);
	for (size_t i = 0; i < p->nv; i++)
		verdict_section(f, &p->v[i], i);
	html__tail(f);
}

/*
 * path may be replaced only when it is missing or a regular file: rename()
 * over a device node, fifo or socket would swap /dev/full for a page, and a
 * symlink is refused rather than followed or replaced (docs/report.md).
 */
static int target_ok(const char *path, char *why, size_t len)
{
	struct stat st;

	if (!*path)
		return vread__bad(why, len, "the output file name is empty");
	if (lstat(path, &st)) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		snprintf(why, len, "%s: %s", path, strerror(e));
		return -e;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	snprintf(why, len, "%s is %s, not a regular file: not replaced", path,
		 S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" :
		 S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" :
		 S_ISFIFO(st.st_mode) ? "a fifo" : S_ISSOCK(st.st_mode) ? "a socket" : "special");
	return -EEXIST;
}

/* 0666 less the umask, as open(O_CREAT) would give (mkstemp makes 0600). */
static mode_t page_mode(void)
{
	mode_t m = umask(0);

	umask(m);
	return 0666 & ~m;
}

int report_html__write(const char *path, const struct report_page *p, char *why, size_t len)
{
	size_t n = strlen(path);
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, ret = target_ok(path, why, len);

	if (ret)
		return ret;
	tmp = malloc(n + 16);
	if (!tmp) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, len, "cannot create a file next to %s: %s", path, strerror(errno));
		goto cleanup;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		snprintf(why, len, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto cleanup;
	}
	report_html__page(f, p);
	/* errno taken at the call that failed: a later call may change it. */
	if (fchmod(fd, page_mode()))
		ret = -errno;
	else if (fflush(f))
		ret = -(errno ? errno : EIO);
	else if (ferror(f))
		ret = -EIO;
	else if (fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -(errno ? errno : EIO);
	if (ret) {
		snprintf(why, len, "cannot write %s: %s", tmp, strerror(-ret));
		goto cleanup;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		snprintf(why, len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	}
cleanup:
	if (ret && fd >= 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

int report_html__from_doc(const char *path, const char *title, struct json_object *doc,
			  char *why, size_t len)
{
	struct report_verdict v = { .source = "this gate" };
	struct report_page p = { .title = title, .v = &v, .nv = 1 };
	size_t size;
	const char *json = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &size);
	char err[512];
	int ret = verdict_read__buf_detail(json, size, &v.doc, &v.more, err, sizeof(err));

	if (ret) {
		snprintf(why, len, "the verdict cannot be reported: %s", err);
		return ret;
	}
	ret = report_html__write(path, &p, why, len);
	verdict_doc__free(&v.doc);
	verdict_detail__free(&v.more);
	return ret;
}
