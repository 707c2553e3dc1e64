// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel report [VERDICT.json...] [--audit STATE_DIR|FILE [--since T] [--until T]]
 *                   -o OUT.html [--title T]
 * One self-contained HTML page (docs/report.md) from verdicts gate --json or
 * the watch daemon wrote, and from a daemon's audit trail over a period.
 * Exit 0 written, 1 a file that cannot be read or written, 2 usage.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "audit.h"
#include "audit_read.h"
#include "cli.h"
#include "log.h"
#include "opts.h"
#include "report_html.h"

struct report_args {
	const char *out, *title, *audit, *since, *until;
};

static const struct cli_opt report_opts[] = {
	{ "output", 'o', "FILE", "the HTML file to write (replaced whole, never half written)",
	  CLI_SET_STRING(struct report_args, out) },
	{ "title", 't', "TEXT", "the page's title (default: lpsentinel report)",
	  CLI_SET_STRING(struct report_args, title) },
	{ "audit", 'a', "PATH", "a watch daemon's state directory or its audit.jsonl: its "
	  "decisions, each with its verdict", CLI_SET_STRING(struct report_args, audit) },
	{ "since", 0, "TIME", "--audit: decisions from TIME on (UTC, 2026-12-02T21:00:00Z or a "
	  "prefix of it)", CLI_SET_STRING(struct report_args, since) },
	{ "until", 0, "TIME", "--audit: decisions up to TIME (a prefix covers its whole span)",
	  CLI_SET_STRING(struct report_args, until) },
	{ 0 },
};

const struct cli_verb cli_verb_report = {
	.name = "report", .args = "[VERDICT.json...]", .opts = report_opts, .run = do_report,
	.summary = "One self-contained HTML page from verdicts and a daemon's audit trail",
	.min_args = 0, .max_args = 256,
	.args_error = "report takes at most 256 verdict files",
};

/* The trail's file: PATH itself, or PATH/audit.jsonl when PATH is a directory. */
static char *audit_path(const char *p)
{
	struct stat st;
	size_t n = strlen(p) + sizeof(AUDIT_FILE) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, !stat(p, &st) && S_ISDIR(st.st_mode) ? "%s/" AUDIT_FILE : "%s", p);
	return s;
}

static int usage_check(const struct report_args *a, int nfiles)
{
	if (!a->out)
		return cli__usage_error("report needs -o FILE, the HTML file to write");
	if (!*a->out)
		return cli__usage_error("-o wants a file name, not an empty one");
	if (!nfiles && !a->audit)
		return cli__usage_error("report needs verdict files, --audit, or both");
	if ((a->since || a->until) && !a->audit)
		return cli__usage_error("--since and --until need --audit");
	if ((a->since && !audit_read__time_ok(a->since)) ||
	    (a->until && !audit_read__time_ok(a->until)))
		return cli__usage_error("--since and --until want a UTC time like "
					"2026-12-02T21:00:00Z, or a prefix of one");
	if (!audit_read__period_ok(&(struct audit_period){ .since = a->since, .until = a->until }))
		return cli__usage_error("--since %s is after --until %s", a->since, a->until);
	return 0;
}

int do_report(int argc, char **argv)
{
	struct report_args a = { .title = "lpsentinel report" };
	struct report_verdict *v = NULL, *av = NULL;
	struct report_audit_row *rows = NULL;
	struct report_page page = { 0 };
	size_t nrows = 0, left_out = 0, nav = 0, nfiles;
	char why[768], period[128] = "", *path = NULL;
	int first, ret;

	ret = cli__parsed(&cli_verb_report, cli__parse(&cli_verb_report, argc, argv, NULL, &a,
						       &first));
	if (ret != CLI_RUN)
		return ret;
	nfiles = (size_t)(argc - first);
	if (usage_check(&a, (int)nfiles))
		return CLI_EXIT_USAGE;
	ret = CLI_EXIT_ERROR;
	if (a.audit) {
		struct audit_period p = { .since = a.since, .until = a.until };

		path = audit_path(a.audit);
		if (!path || audit_read__file(path, &p, &rows, &nrows, &left_out, &av, &nav, why,
						   sizeof(why))) {
			lps_err("%s: %s", a.audit, path ? why : "out of memory");
			goto cleanup;
		}
		snprintf(period, sizeof(period), "%s, from %s to %s", AUDIT_FILE,
			 a.since ? a.since : "its start", a.until ? a.until : "its end");
	}
	/* The page's verdicts: the files given, then the audit trail's. */
	v = calloc(nfiles + nav + 1, sizeof(*v));
	if (!v) {
		lps_err("out of memory");
		goto cleanup;
	}
	/* The trail's verdicts move into v first: from here on they are freed there. */
	for (size_t i = 0; i < nav; i++)
		v[nfiles + i] = av[i];
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].verdict_idx >= 0)
			rows[i].verdict_idx += (int)nfiles;
	for (size_t i = 0; i < nfiles; i++) {
		v[i].source = argv[first + i];
		if (verdict_read__file_detail(argv[first + i], &v[i].doc, &v[i].more, why,
					      sizeof(why))) {
			lps_err("%s: %s", argv[first + i], why);
			goto cleanup;
		}
		/* Checked as each file comes (the slots not read yet are empty): memory stays
		 * within the page's totals. */
		if (report_html__check_totals(v, nfiles + nav, why, sizeof(why))) {
			lps_err("%s", why);
			goto cleanup;
		}
	}
	page = (struct report_page){ .title = a.title, .v = v, .nv = nfiles + nav,
				     .audit = a.audit ? rows : NULL, .naudit = nrows,
				     .audit_left_out = left_out,
				     .audit_period = period };
	if (report_html__write(a.out, &page, why, sizeof(why))) {
		lps_err("%s", why);
		goto cleanup;
	}
	ret = CLI_EXIT_OK;
cleanup:
	/* The trail's verdicts moved into v: freed there, and only the array of av here. */
	for (size_t i = 0; v && i < nfiles + nav; i++) {
		verdict_doc__free(&v[i].doc);
		verdict_detail__free(&v[i].more);
	}
	audit_read__free(rows, av, v ? 0 : nav);
	free(v);
	free(path);
	return ret;
}
