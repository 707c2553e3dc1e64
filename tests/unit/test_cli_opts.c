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

/* One parse, of verb v's words (fn and data to cli__parse; data NULL: s). */
struct run {
	const struct cli_verb *v;
	cli_opt_fn *fn;
	void *data;
	struct seen s;		/* what t_opt saw */
	char said[2048];	/* what the parse wrote on the stream watched */
	int first;		/* where the positionals start, after a parse that took them */
};

/* Runs cli__parse on the words, capturing what it writes to fd (1 stdout, 2 stderr). */
static int vparse(struct run *r, int fd, va_list ap)
{
	char *argv[16] = { (char *)r->v->name };
	int argc = 1, saved, ret;
	FILE *tmp = tmpfile();
	size_t n;

	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	assert_non_null(tmp);
	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	dup2(fileno(tmp), fd);
	memset(&r->s, 0, sizeof(r->s));
	ret = cli__parse(r->v, argc, argv, r->fn, r->data ? r->data : &r->s, &r->first);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(r->said, 1, sizeof(r->said) - 1, tmp);
	r->said[n] = '\0';
	fclose(tmp);
	return ret;
}

/* The words, NULL after the last, parsed; what the parse wrote on fd in r->said. */
static int parse(struct run *r, int fd, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fd);
	ret = vparse(r, fd, ap);
	va_end(ap);
	return ret;
}

/* The words are a usage error (-EINVAL); returns what stderr said. */
static const char *refused(struct run *r, ...)
{
	va_list ap;

	va_start(ap, r);
	assert_int_equal(vparse(r, 2, ap), -EINVAL);
	va_end(ap);
	return r->said;
}

/* t's usage error for a bad or incomplete option, as it was written. */
static const char *bad_option(const char *word)
{
	static char msg[160];

	snprintf(msg, sizeof(msg), "lpsentinel: usage error: t: unknown or incomplete option "
		 "'%s' (see lpsentinel t --help)\n", word);
	return msg;
}

static void test_flags_and_arguments(void **state)
{
	struct run r = { &t_verb, t_opt, .first = -1 };

	(void)state;
	/* Short, long, attached, long-only, repeated; positionals moved to the end. */
	assert_int_equal(parse(&r, 2, "-j", "a", "-d", "5", "--duration=7", "--keep", "-nx",
			       "--name", "y", "b", NULL), 0);
	assert_string_equal(r.said, "");
	assert_string_equal(r.s.log, "j d=5 d=7 k n=x n=y");
	assert_int_equal(r.first, 9);
	/* Unambiguous abbreviations, as getopt_long allows. */
	assert_int_equal(parse(&r, 2, "--dur=3", "--ke", "a", NULL), 0);
	assert_string_equal(r.s.log, "d=3 k");
}

static void test_positionals_counted(void **state)
{
	struct run r = { &t_verb, t_opt, .first = -1 };

	(void)state;
	assert_int_equal(parse(&r, 2, "-j", "one", NULL), 0);
	assert_int_equal(r.first, 2);
	assert_int_equal(parse(&r, 2, "one", "two", NULL), 0);
	assert_int_equal(r.first, 1);
	/* Too few: the message without the argument. */
	assert_string_equal(refused(&r, "-j", NULL),
			    "lpsentinel: usage error: t wants one or two FILEs, not ''\n");
	/* Too many: "%s" is the first one too many. */
	assert_string_equal(refused(&r, "1", "2", "3", "4", NULL),
			    "lpsentinel: usage error: t wants one or two FILEs, not '3'\n");
}

/* A verb taking module parameters after "--" (gate). */
static const struct cli_verb p_verb = {
	.name = "p", .args = "FILE", .summary = "A verb with a rest", .opts = t_opts,
	.min_args = 1, .max_args = 1, .args_error = "p wants one FILE, not '%s'",
	.rest = "PARAM=VALUE",
};

static void test_rest_after_dashdash(void **state)
{
	struct run r = { &p_verb, t_opt, .first = -1 };
	char *argv[] = { "p", "-j", "m.ko", "--", "replace=1", "-d", NULL };
	char *none[] = { "p", "m.ko", NULL };
	char out[256];
	FILE *f;

	(void)state;
	/* What follows "--" is neither an option nor a positional: "-d" there is not --duration. */
	assert_int_equal(parse(&r, 2, "-j", "m.ko", "--", "replace=1", "-d", NULL), 0);
	assert_string_equal(r.s.log, "j");
	assert_int_equal(cli__rest(&p_verb, 6, argv), 4);
	assert_int_equal(cli__rest(&p_verb, 2, none), 2);
	assert_int_equal(cli__rest(&p_verb, 4, argv), 4);	/* "--" last: nothing after it */
	/* A verb without a rest keeps getopt's "--": the words after it are positionals. */
	assert_int_equal(cli__rest(&t_verb, 6, argv), 6);
	f = fmemopen(out, sizeof(out), "w");
	cli__synopsis(f, &p_verb);
	fclose(f);
	assert_non_null(strstr(out, "] [-- PARAM=VALUE...]"));
}

static void test_bad_option(void **state)
{
	struct run r = { &t_verb, t_opt, .first = -1 };

	(void)state;
	assert_string_equal(refused(&r, "--bogus", "a", NULL), bad_option("--bogus"));
	assert_string_equal(refused(&r, "-x", "a", NULL), bad_option("-x"));
	/* A flag given an argument. */
	assert_non_null(strstr(refused(&r, "--json=1", "a", NULL), "'--json=1'"));
	/* A long-only option has no short form: -k is unknown. */
	assert_non_null(strstr(refused(&r, "-k", "a", NULL), "'-k'"));
	/* In the middle of a cluster: the cluster, not the word before it. */
	assert_non_null(strstr(refused(&r, "a", "-xj", NULL), "option '-xj'"));
	/* Options before the bad one were handed over, none after. */
	refused(&r, "-j", "--bogus", "--keep", "a", NULL);
	assert_string_equal(r.s.log, "j");
	/* The callback's own refusal stops the parse. */
	refused(&r, "--fail", "bad", "-j", "a", NULL);
	assert_string_equal(r.s.log, "");
}

static void test_missing_argument(void **state)
{
	struct run r = { &t_verb, t_opt, .first = -1 };

	(void)state;
	assert_string_equal(refused(&r, "a", "-d", NULL), bad_option("-d"));
	assert_non_null(strstr(refused(&r, "a", "--duration", NULL), "option '--duration'"));
	/* An abbreviation too, named as written. */
	assert_non_null(strstr(refused(&r, "a", "--dur", NULL), "option '--dur'"));
}

static void test_help(void **state)
{
	struct run r = { &t_verb, t_opt, .first = -1 };

	(void)state;
	/* --help wins over a missing positional, and what follows is not read. */
	assert_int_equal(parse(&r, 1, "-j", "--help", "--bogus", NULL), 1);
	assert_string_equal(r.s.log, "j");
	assert_non_null(strstr(r.said, "usage: lpsentinel t FILE... [--json] [--duration SECONDS] "
			       "[--keep] [--name NAME]... [--fail X]\n"));
	assert_non_null(strstr(r.said, "\n  -d, --duration SECONDS  how long\n"));
	assert_non_null(strstr(r.said, "\n      --keep              long only\n"));
	assert_non_null(strstr(r.said, "\n  -h, --help              print this help and exit\n"));
	assert_int_equal(parse(&r, 1, "-h", NULL), 1);
}

/* Options whose table entry sets a field: no callback. */
struct s_args {
	bool flag;
	const char *name;
	double secs;
};

static const struct cli_opt s_opts[] = {
	{ "flag", 'f', NULL, "a flag", CLI_SET_FLAG(struct s_args, flag) },
	{ "name", 0, "NAME", "a name", CLI_SET_STRING(struct s_args, name) },
	{ "secs", 's', "SECONDS", "some seconds", CLI_SET_SECONDS(struct s_args, secs,
								  "--secs wants seconds") },
	{ 0 },
};

static const struct cli_verb s_verb = {
	.name = "s", .args = "", .summary = "A verb whose table sets its fields", .opts = s_opts,
	.min_args = 0, .max_args = 0, .args_error = "s takes no arguments",
};

static void test_table_sets_fields(void **state)
{
	struct s_args a = { 0 };
	struct run r = { &s_verb, NULL, &a };

	(void)state;
	assert_int_equal(parse(&r, 2, "--name", "x", "-s", "2.5", NULL), 0);
	assert_false(a.flag);
	assert_string_equal(a.name, "x");
	assert_true(a.secs == 2.5);
	assert_int_equal(parse(&r, 2, "-f", "--name=y", NULL), 0);
	assert_true(a.flag);
	assert_string_equal(a.name, "y");
	assert_string_equal(refused(&r, "--secs", "-1", NULL),
			    "lpsentinel: usage error: --secs wants seconds, not '-1'\n");
	assert_string_equal(refused(&r, "-s", "soon", NULL),
			    "lpsentinel: usage error: --secs wants seconds, not 'soon'\n");
	assert_true(a.secs == 2.5);
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
		cmocka_unit_test(test_rest_after_dashdash),
		cmocka_unit_test(test_bad_option),
		cmocka_unit_test(test_missing_argument),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_table_sets_fields),
		cmocka_unit_test(test_markdown),
	};

	return cmocka_run_group_tests_name("cli_opts", tests, NULL, NULL);
}
