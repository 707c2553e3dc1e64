// SPDX-License-Identifier: GPL-2.0
/* The verbs' option tables at work: one parser loop, --help, usage, markdown. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "manpage.h"
#include "opts.h"

/* getopt_long's val for a table's i-th long option (short ones return their letter). */
#define LONG_BASE 256
#define BAD_OPTION "unknown or incomplete option"

static const struct cli_opt help_opt = { "help", 'h', NULL, "print this help and exit" };

static size_t count_opts(const struct cli_verb *v)
{
	size_t n = 0;

	while (v->opts && v->opts[n].name)
		n++;
	return n;
}

/* The i-th option of v, the last (i == n) being --help. */
static const struct cli_opt *opt_at(const struct cli_verb *v, size_t n, size_t i)
{
	return i < n ? &v->opts[i] : &help_opt;
}

/* What getopt_long returned, as a table entry; NULL for '?' (bad or incomplete). */
static const struct cli_opt *opt_of(const struct cli_verb *v, size_t n, int c)
{
	if (c >= LONG_BASE && (size_t)(c - LONG_BASE) <= n)
		return opt_at(v, n, (size_t)(c - LONG_BASE));
	for (size_t i = 0; c != '?' && c != ':' && i <= n; i++)
		if (opt_at(v, n, i)->short_name == c)
			return opt_at(v, n, i);
	return NULL;
}

/*
 * The word a bad option stands in, for its usage error: the one before optind,
 * except for a short option in the middle of a cluster ("-xj"), which getopt
 * has not moved past yet.
 */
static const char *bad_word(int argc, char **argv)
{
	const char *prev = argv[optind - 1];

	if (optopt > 0 && optopt < LONG_BASE && optind < argc &&
	    !(prev[0] == '-' && prev[1] != '-' && strchr(prev + 1, optopt)))
		return argv[optind];
	return prev;
}

/* v's usage error for a wrong count of positionals; "%s" in it is extra. */
static int args_error(const struct cli_verb *v, const char *extra)
{
	const char *at = strstr(v->args_error, "%s");

	if (!at)
		return cli__usage_error("%s", v->args_error);
	return cli__usage_error("%.*s%s%s", (int)(at - v->args_error), v->args_error,
				extra ? extra : "", at + 2);
}

int cli__opt_seconds(const char *arg, double *out, const char *what)
{
	if (cli__parse_seconds(arg, out))
		return cli__usage_error("%s, not '%s'", what, arg);
	return 0;
}

/* o's value into its field of data, or to fn: 0 or a usage error. */
static int take(const struct cli_opt *o, const char *arg, cli_opt_fn *fn, void *data)
{
	void *field = (char *)data + o->offset;

	switch (o->store) {
	case CLI_FLAG:
		*(bool *)field = true;
		return 0;
	case CLI_STRING:
		*(const char **)field = arg;
		return 0;
	case CLI_SECONDS:
		return cli__opt_seconds(arg, field, o->bad);
	case CLI_PERCENT: {
		/* Seconds' rules (a finite number above 0), and at most all of a CPU. */
		int ret = cli__opt_seconds(arg, field, o->bad);

		if (ret || *(double *)field <= 100)
			return ret;
		return cli__usage_error("%s, not '%s'", o->bad, arg);
	}
	case CLI_CALL:
		break;
	}
	return fn(o->key ? o->key : o->short_name, arg, data);
}

/* The index of the "--" that starts v's rest, or argc. */
static int dashdash(const struct cli_verb *v, int argc, char **argv)
{
	for (int i = 1; v->rest && i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return argc;
}

int cli__rest(const struct cli_verb *v, int argc, char **argv)
{
	int i = dashdash(v, argc, argv);

	return i < argc ? i + 1 : argc;
}

int cli__parse(const struct cli_verb *v, int argc, char **argv, cli_opt_fn *fn, void *data,
	       int *first)
{
	struct option lo[CLI_MAX_OPTS + 2];
	char so[3 * (CLI_MAX_OPTS + 1) + 1], *s = so;
	size_t n = count_opts(v);
	int c, count, ret;

	if (n > CLI_MAX_OPTS) {
		fprintf(stderr, "lpsentinel: error: %s has more than %d options\n", v->name,
			CLI_MAX_OPTS);
		return -E2BIG;
	}
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = opt_at(v, n, i);

		lo[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL,
					 LONG_BASE + (int)i };
		if (o->short_name) {
			*s++ = o->short_name;
			if (o->arg)
				*s++ = ':';
		}
	}
	lo[n + 1] = (struct option){ 0 };
	*s = '\0';
	/* Past "--" are the verb's own words (module parameters): not options, not positionals. */
	argc = dashdash(v, argc, argv);
	optind = 0;	/* 0, not 1: glibc forgets a half-read cluster of an earlier parse */
	opterr = 0;	/* we say it ourselves, in one line */
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct cli_opt *o = opt_of(v, n, c);

		if (!o)
			return cli__usage_error("%s: %s '%s' (see lpsentinel %s --help)", v->name,
						v->bad_option ? v->bad_option : BAD_OPTION,
						bad_word(argc, argv), v->name);
		if (o == &help_opt) {
			cli__help(stdout, v);
			return 1;
		}
		ret = take(o, optarg, fn, data);
		if (ret)
			return ret;
	}
	count = argc - optind;
	if (count < v->min_args)
		return args_error(v, NULL);
	if (v->max_args >= 0 && count > v->max_args)
		return args_error(v, argv[optind + v->max_args]);
	if (first)
		*first = optind;
	return 0;
}

int cli__parsed(const struct cli_verb *v, int parsed)
{
	if (parsed)
		return parsed > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (v->traces && cli__check_privileges())
		return CLI_EXIT_ERROR;
	return CLI_RUN;
}

static const struct cli_markup cli_markup_text = {
	.on = "", .mid = " ", .off = "", .pad = "    ", .dash = "-", .sep = " ",
	.cmd_on = "", .cmd_off = "", .arg_on = "", .arg_off = "",
};
static const struct cli_markup cli_markup_md = {
	.on = "`", .mid = " ", .off = "`", .pad = "", .dash = "-", .sep = " ",
	.cmd_on = "", .cmd_off = "", .arg_on = "", .arg_off = "",
};

size_t cli__nopts(const struct cli_verb *v)
{
	return count_opts(v);
}

const struct cli_opt *cli__opt(const struct cli_verb *v, size_t i)
{
	return opt_at(v, count_opts(v), i);
}

/* s onto buf at *at, each '-' as dash (NULL: as it is); cut short when buf is full. */
static void put(char *buf, size_t len, size_t *at, const char *s, const char *dash)
{
	for (; *s; s++) {
		const char *piece = *s == '-' && dash ? dash : (char[2]){ *s, 0 };
		size_t n = strlen(piece);

		if (*at + n >= len)
			return;
		memcpy(buf + *at, piece, n + 1);
		*at += n;
	}
}

void cli__opt_label(char *buf, size_t len, const struct cli_opt *o, bool with_short,
		    const struct cli_markup *m)
{
	size_t at = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (with_short && o->short_name) {
		put(buf, len, &at, m->on, NULL);
		put(buf, len, &at, "-", m->dash);
		put(buf, len, &at, (char[]){ o->short_name, 0 }, m->dash);
		put(buf, len, &at, m->off, NULL);
		put(buf, len, &at, ", ", NULL);
	} else if (with_short) {
		put(buf, len, &at, m->pad, NULL);
	}
	put(buf, len, &at, m->on, NULL);
	put(buf, len, &at, "--", m->dash);
	put(buf, len, &at, o->name, m->dash);
	if (o->arg) {
		put(buf, len, &at, m->mid, NULL);
		put(buf, len, &at, o->arg, m->dash);
	}
	put(buf, len, &at, m->off, NULL);
}

void cli__opt_help(char *buf, size_t len, const struct cli_opt *o)
{
	snprintf(buf, len, "%s%s", o->help, o->many ? " (repeatable)" : "");
}

void cli__synopsis_marked(FILE *f, const struct cli_verb *v, const struct cli_markup *m)
{
	char label[256], arg[256] = "";
	size_t at = 0;

	fprintf(f, "%slpsentinel %s%s", m->cmd_on, v->name, m->cmd_off);
	if (v->args && *v->args) {
		put(arg, sizeof(arg), &at, v->args, m->dash);
		fprintf(f, "%s%s%s%s", m->sep, m->arg_on, arg, m->arg_off);
	}
	for (size_t i = 0; i < count_opts(v); i++) {
		const struct cli_opt *o = &v->opts[i];

		cli__opt_label(label, sizeof(label), o, false, m);
		fprintf(f, "%s[%s]%s", m->sep, label, o->many ? "..." : "");
	}
	if (v->rest) {
		at = 0;
		put(arg, sizeof(arg), &at, v->rest, m->dash);
		fprintf(f, "%s[%s%s%s%s%s%s...]", m->sep, m->on, m->dash, m->dash, m->mid, arg,
			m->off);
	}
}

void cli__synopsis(FILE *f, const struct cli_verb *v)
{
	cli__synopsis_marked(f, v, &cli_markup_text);
}

void cli__help(FILE *f, const struct cli_verb *v)
{
	size_t n = count_opts(v);
	char label[128], help[CLI_HELP_MAX];
	int width = 0;

	for (size_t i = 0; i <= n; i++) {
		cli__opt_label(label, sizeof(label), opt_at(v, n, i), true, &cli_markup_text);
		if ((int)strlen(label) > width)
			width = (int)strlen(label);
	}
	fprintf(f, "usage: ");
	cli__synopsis(f, v);
	fprintf(f, "\n\n%s.\n\noptions:\n", v->summary);
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = opt_at(v, n, i);

		cli__opt_label(label, sizeof(label), o, true, &cli_markup_text);
		cli__opt_help(help, sizeof(help), o);
		fprintf(f, "  %-*s  %s\n", width, label, help);
	}
}

void cli__usage(FILE *f, const struct cli_verb *const *verbs, size_t n)
{
	fprintf(f, "usage: lpsentinel COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  ");
		cli__synopsis(f, verbs[i]);
		fprintf(f, "\n");
	}
	fprintf(f, "\nlpsentinel COMMAND --help: what a command does and its options.\n"
		"lpsentinel help --markdown: every command's, as markdown (docs/usage.md).\n"
		"lpsentinel help --man [COMMAND], help --completion: the manual pages (roff)\n"
		"and the bash completion script.\n"
		"lpsentinel --version: the version (the Debian package's).\n");
}

void cli__markdown(FILE *f, const struct cli_verb *const *verbs, size_t n)
{
	char label[128], help[CLI_HELP_MAX];

	fprintf(f, "<!-- Generated by `lpsentinel help --markdown` (`make docs`): edit the option\n"
		"     tables in user/cmd/*.c, not this file. -->\n"
		"# lpsentinel commands and options\n\n"
		"Exit status (every command; what each means by it: its manual page):\n\n");
	for (int code = 0; code <= CLI_EXIT_REGRESSED; code++) {
		const char *what = cli__exit_meaning(cli__man_text(NULL), code);

		if (what)
			fprintf(f, "- %d: %s\n", code, what);
	}
	for (size_t i = 0; i < n; i++) {
		const struct cli_verb *v = verbs[i];
		size_t nopts = count_opts(v);

		fprintf(f, "\n## lpsentinel %s\n\n%s.\n\n```synopsis\n", v->name, v->summary);
		cli__synopsis(f, v);
		fprintf(f, "\n```\n\n");
		for (size_t k = 0; k <= nopts; k++) {
			const struct cli_opt *o = opt_at(v, nopts, k);

			cli__opt_label(label, sizeof(label), o, true, &cli_markup_md);
			cli__opt_help(help, sizeof(help), o);
			fprintf(f, "- %s: %s\n", label, help);
		}
	}
}
