// SPDX-License-Identifier: GPL-2.0
/* The shared option parser (user/cmd/opts.c) on a verb table of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "opts.h"

static const struct cli_opt t_opts[] = {
	{ "json", 'j', NULL, "one JSON document" },
	{ "duration", 'd', "SECONDS", "how long" },
	{ "keep", 0, NULL, "long only", .key = 'k' },
	{ "name", 'n', "NAME", "a name", .many = true },
	{ "fail", 0, "X", "the callback refuses X=bad", .key = 'F' },
	{ 0 },
};

static const struct cli_verb t_verb = {
	.name = "t", .args = "FILE...", .summary = "A test verb", .opts = t_opts,
	.min_args = 1, .max_args = 2, .args_error = "t wants one or two FILEs, not '%s'",
};

/* What the callback saw, in order: "j", "d=5", ... */
struct seen {
	char log[256];
};

static int t_opt(int key, const char *arg, void *data)
{
	struct seen *s = data;
	size_t len = strlen(s->log);

	if (key == 'F' && !strcmp(arg, "bad"))
		return -EINVAL;
	snprintf(s->log + len, sizeof(s->log) - len, "%s%c%s%s", len ? " " : "", key,
		 arg ? "=" : "", arg ? arg : "");
	return 0;
}

/* Runs cli__parse on the words, capturing what it writes to fd (stdout or stderr). */
static int parse(int fd, char *said, size_t said_len, struct seen *s, int *first, ...)
{
	char *argv[16] = { "t" };
	int argc = 1, saved, ret;
	FILE *tmp = tmpfile();
	va_list ap;
	size_t n;

	va_start(ap, first);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_non_null(tmp);
	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	dup2(fileno(tmp), fd);
	memset(s, 0, sizeof(*s));
	ret = cli__parse(&t_verb, argc, argv, t_opt, s, first);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(said, 1, said_len - 1, tmp);
	said[n] = '\0';
	fclose(tmp);
	return ret;
}

static void test_flags_and_arguments(void **state)
{
	char err[512];
	struct seen s;
	int first = -1;

	(void)state;
	/* Short, long, attached, long-only, repeated; positionals moved to the end. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-j", "a", "-d", "5",
			       "--duration=7", "--keep", "-nx", "--name", "y", "b", NULL), 0);
	assert_string_equal(err, "");
	assert_string_equal(s.log, "j d=5 d=7 k n=x n=y");
	assert_int_equal(first, 9);
	/* Unambiguous abbreviations, as getopt_long allows. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "--dur=3", "--ke", "a", NULL), 0);
	assert_string_equal(s.log, "d=3 k");
}

static void test_positionals_counted(void **state)
{
	char err[512];
	struct seen s;
	int first = -1;

	(void)state;
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-j", "one", NULL), 0);
	assert_int_equal(first, 2);
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "one", "two", NULL), 0);
	assert_int_equal(first, 1);
	/* Too few: the message without the argument. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-j", NULL), -EINVAL);
	assert_string_equal(err, "lpsentinel: usage error: t wants one or two FILEs, not ''\n");
	/* Too many: "%s" is the first one too many. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "1", "2", "3", "4", NULL),
			 -EINVAL);
	assert_string_equal(err, "lpsentinel: usage error: t wants one or two FILEs, not '3'\n");
}

static void test_bad_option(void **state)
{
	char err[512];
	struct seen s;
	int first = -1;

	(void)state;
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "--bogus", "a", NULL), -EINVAL);
	assert_string_equal(err, "lpsentinel: usage error: t: unknown or incomplete option "
			    "'--bogus' (see lpsentinel t --help)\n");
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-x", "a", NULL), -EINVAL);
	assert_string_equal(err, "lpsentinel: usage error: t: unknown or incomplete option "
			    "'-x' (see lpsentinel t --help)\n");
	/* A flag given an argument. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "--json=1", "a", NULL), -EINVAL);
	assert_non_null(strstr(err, "'--json=1'"));
	/* A long-only option has no short form: -k is unknown. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-k", "a", NULL), -EINVAL);
	assert_non_null(strstr(err, "'-k'"));
	/* In the middle of a cluster: the cluster, not the word before it. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "a", "-xj", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '-xj'"));
	/* Options before the bad one were handed over, none after. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "-j", "--bogus", "--keep", "a",
			       NULL), -EINVAL);
	assert_string_equal(s.log, "j");
	/* The callback's own refusal stops the parse. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "--fail", "bad", "-j", "a", NULL),
			 -EINVAL);
	assert_string_equal(s.log, "");
}

static void test_missing_argument(void **state)
{
	char err[512];
	struct seen s;
	int first = -1;

	(void)state;
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "a", "-d", NULL), -EINVAL);
	assert_string_equal(err, "lpsentinel: usage error: t: unknown or incomplete option "
			    "'-d' (see lpsentinel t --help)\n");
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "a", "--duration", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '--duration'"));
	/* An abbreviation too, named as written. */
	assert_int_equal(parse(2, err, sizeof(err), &s, &first, "a", "--dur", NULL), -EINVAL);
	assert_non_null(strstr(err, "option '--dur'"));
}

static void test_help(void **state)
{
	char out[2048];
	struct seen s;
	int first = -1;

	(void)state;
	/* --help wins over a missing positional, and what follows is not read. */
	assert_int_equal(parse(1, out, sizeof(out), &s, &first, "-j", "--help", "--bogus", NULL),
			 1);
	assert_string_equal(s.log, "j");
	assert_non_null(strstr(out, "usage: lpsentinel t FILE... [--json] [--duration SECONDS] "
			       "[--keep] [--name NAME]... [--fail X]\n"));
	assert_non_null(strstr(out, "\n  -d, --duration SECONDS  how long\n"));
	assert_non_null(strstr(out, "\n      --keep              long only\n"));
	assert_non_null(strstr(out, "\n  -h, --help              print this help and exit\n"));
	assert_int_equal(parse(1, out, sizeof(out), &s, &first, "-h", NULL), 1);
}

static void test_markdown(void **state)
{
	const struct cli_verb *verbs[] = { &t_verb };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	cli__markdown(f, verbs, 1);
	fclose(f);
	assert_non_null(strstr(buf, "\n## lpsentinel t\n\nA test verb.\n\n```synopsis\n"
			       "lpsentinel t FILE... [--json] [--duration SECONDS] [--keep] "
			       "[--name NAME]... [--fail X]\n```\n"));
	assert_non_null(strstr(buf, "\n- `-d`, `--duration SECONDS`: how long\n"));
	assert_non_null(strstr(buf, "\n- `--keep`: long only\n"));
	assert_non_null(strstr(buf, "\n- `-n`, `--name NAME`: a name (repeatable)\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_and_arguments),
		cmocka_unit_test(test_positionals_counted),
		cmocka_unit_test(test_bad_option),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_markdown),
	};

	return cmocka_run_group_tests_name("cli_opts", tests, NULL, NULL);
}
