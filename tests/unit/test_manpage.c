// SPDX-License-Identifier: GPL-2.0
/*
 * The manual page and completion emitters (user/cmd/manpage.c, completion.c)
 * on verb tables of their own: a verb without prose still gets a whole page;
 * text that roff would read as requests or escapes is escaped; the page's
 * date comes from SOURCE_DATE_EPOCH or is refused; names a shell would read
 * specially never reach the completion script.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "manpage.h"

/* Help text roff would misread: a request, a control character, an escape, hyphens. */
static const struct cli_opt x_opts[] = {
	{ "dry-run", 'n', NULL, ".so /etc/passwd" },
	{ "path", 'p', "DIR", "'quoted start" },
	{ "mode", 0, "fast|slow-ish", "a\\fBbackslash and --dashes" },
	{ "out", 'o', "REPORT.html", "where", .many = true },
	{ 0 },
};

static const struct cli_verb x_verb = {
	.name = "xverb", .args = "PATCH.ko|PATCH", .summary = "Does a test thing", .opts = x_opts,
	.min_args = 1, .max_args = 1, .args_error = "x", .rest = "K=V",
};

static const struct cli_opt bad_opts[] = {
	{ "evil", 0, "A;rm -rf", "a metavariable a shell would run" },
	{ 0 },
};

static const struct cli_verb bad_verb = {
	.name = "bad", .args = "", .summary = "Bad", .opts = bad_opts, .args_error = "x",
};

/* What fn wrote for verbs, NUL-terminated (free it); *ret its return. */
static char *page_of(const struct cli_verb *v, int *ret)
{
	const struct cli_verb *verbs[] = { &x_verb };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = cli__man_page(f, verbs, 1, v);
	fclose(f);
	return buf;
}

static void test_verb_page_without_prose(void **state)
{
	int ret;
	char *p;

	(void)state;
	assert_null(cli__man_text("xverb"));
	unsetenv("SOURCE_DATE_EPOCH");
	p = page_of(&x_verb, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(p, ".TH LPSENTINEL\\-XVERB 8 \"\" \"lpsentinel\""));
	assert_non_null(strstr(p, ".SH NAME\nlpsentinel\\-xverb \\- does a test thing\n"));
	assert_non_null(strstr(p, ".SH SYNOPSIS\n\\fBlpsentinel xverb\\fR\\&\n\\fIPATCH.ko|PATCH\\fR\\&\n"
			       "[\\fB\\-\\-dry\\-run\\fR]\\&\n[\\fB\\-\\-path\\fR\\ \\fIDIR\\fR]\\&\n"
			       "[\\fB\\-\\-mode\\fR\\ \\fIfast|slow\\-ish\\fR]\\&\n"
			       "[\\fB\\-\\-out\\fR\\ \\fIREPORT.html\\fR]...\\&\n"
			       "[\\fB\\-\\-\\fR\\ \\fIK=V\\fR...]\\&\n.SH DESCRIPTION\n"));
	/* Escaped: a leading '.' or '\'' is not a request, a backslash not an escape. */
	assert_non_null(strstr(p, ".TP\n\\fB\\-n\\fR, \\fB\\-\\-dry\\-run\\fR\n\\&.so /etc/passwd\n"));
	assert_non_null(strstr(p, "\n\\&'quoted start\n"));
	assert_non_null(strstr(p, "\na\\efBbackslash and \\-\\-dashes\n"));
	assert_non_null(strstr(p, "\nwhere (repeatable)\n"));
	assert_non_null(strstr(p, ".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint this help and exit\n"));
	/* The general exit statuses only, and no sections the verb has nothing for. */
	assert_non_null(strstr(p, ".SH EXIT STATUS\n.TP\n.B 0\n"));
	assert_non_null(strstr(p, ".B 2\n"));
	assert_null(strstr(p, ".B 3\n"));
	assert_null(strstr(p, ".SH FILES"));
	assert_null(strstr(p, ".SH EXAMPLES"));
	assert_non_null(strstr(p, ".SH SEE ALSO\n.BR lpsentinel (8)\n"));
	free(p);
}

static void test_main_page_lists_verbs(void **state)
{
	int ret;
	char *p;

	(void)state;
	setenv("SOURCE_DATE_EPOCH", "86400", 1);
	p = page_of(NULL, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(p, ".TH LPSENTINEL 8 \"1970-01-02\""));
	assert_non_null(strstr(p, ".SH COMMANDS\n.TP\n.BR lpsentinel\\-xverb (8)\nDoes a test thing.\n"));
	assert_non_null(strstr(p, ".SH SEE ALSO\n.BR lpsentinel\\-xverb (8)\n"));
	free(p);
}

static void test_bad_date_refused(void **state)
{
	const char *bad[] = { "yesterday", "-5", "12x", "99999999999999999999" };
	int ret;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SOURCE_DATE_EPOCH", bad[i], 1);
		free(page_of(&x_verb, &ret));
		assert_int_equal(ret, -EINVAL);
	}
	unsetenv("SOURCE_DATE_EPOCH");
}

static char *completion_of(const struct cli_verb *v, int *ret)
{
	const struct cli_verb *verbs[] = { v };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = cli__completion(f, verbs, 1);
	fclose(f);
	return buf;
}

static void test_completion_kinds(void **state)
{
	int ret;
	char *s = completion_of(&x_verb, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_non_null(strstr(s, "\txverb)\n\t\topts='--dry-run -n --path -p --mode --out -o "
			       "--help -h'\n"));
	/* DIR a directory, lower-case alternatives themselves, NAME.ext files of that kind. */
	assert_non_null(strstr(s, "[--path]='dir' [-p]='dir' [--mode]='word:fast word:slow-ish' "
			       "[--out]='ext:html' [-o]='ext:html' )\n"));
	assert_non_null(strstr(s, "\t\tpk='ext:ko patch' max=1 rest=1\n"));
	assert_non_null(strstr(s, "complete -F _lpsentinel lpsentinel\n"));
	free(s);
	s = completion_of(&bad_verb, &ret);
	assert_int_equal(ret, -EINVAL);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verb_page_without_prose),
		cmocka_unit_test(test_main_page_lists_verbs),
		cmocka_unit_test(test_bad_date_refused),
		cmocka_unit_test(test_completion_kinds),
	};

	return cmocka_run_group_tests_name("manpage", tests, NULL, NULL);
}
