/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTML report (docs/report.md): verdicts read back (verdict_read.h,
 * with their details) and a daemon's audit trail, rendered as one
 * self-contained page with inline SVG plots (svg_plot.h).
 */
#ifndef LPS_REPORT_HTML_H
#define LPS_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "verdict_read.h"

/* One verdict to show: where it came from, and what was read. */
struct report_verdict {
	const char *source;		/* a file name, "gate", ...: shown escaped */
	struct verdict_doc doc;
	struct verdict_detail more;
};

/* One decision of a daemon's audit trail (audit.h's record), checked. */
struct report_audit_row {
	char time[40], event[40], patch[128], verdict[16], action[32], reason[1024];
	bool operational;
	int verdict_idx;		/* its verdict among the page's verdicts; -1: none */
};

struct report_page {
	const char *title;
	const struct report_verdict *v;
	size_t nv;
	const struct report_audit_row *audit;	/* NULL: no audit section */
	size_t naudit;
	size_t audit_left_out;			/* the period's earlier rows, not shown */
	const char *audit_period;		/* "from ... to ...", shown escaped */
};

/*
 * What one page holds at most, summed over its verdicts: beyond it the page
 * would take gigabytes to build and be too long to read (docs/limits.md).
 */
#define REPORT_MAX_FUNCS	4096
#define REPORT_MAX_LOOKS	16384
/* 0 when v[0..nv) are within those totals, or -E2BIG with one line in why naming the limit. */
int report_html__check_totals(const struct report_verdict *v, size_t nv, char *why, size_t len);

/* The whole page to f. */
void report_html__page(FILE *f, const struct report_page *p);
/*
 * The page to path: written to a temporary file in the same directory,
 * synced and renamed over path (a reader never sees half a page). 0, or
 * -errno with one line in why.
 */
int report_html__write(const char *path, const struct report_page *p, char *why, size_t len);
/*
 * A verdict document as gate prints it, rendered to path with title: gate
 * --html, for gate's own verdict and the daemon's reply. It goes through the
 * same reader as a verdict file (as text): the page shows what report would.
 */
int report_html__from_doc(const char *path, const char *title, struct json_object *doc,
			   char *why, size_t len);

#endif
