/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every verb's options as one table (struct cli_verb), from which come its
 * parsing (getopt_long's option array and short-option string), its --help,
 * its line in `lpsentinel --help` and its section of docs/usage.md
 * (`lpsentinel help --markdown`). Like bpftool's do_help: one synopsis per
 * command, everything else derived from it.
 */
#ifndef LPS_OPTS_H
#define LPS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What cli__parse does with an option it meets. */
enum cli_store {
	CLI_CALL,	/* hands it to the verb's callback */
	/* Sets a field of the verb's arguments (the data given to cli__parse): */
	CLI_FLAG,	/* a bool, to true */
	CLI_STRING,	/* a const char *, to the argument */
	CLI_SECONDS,	/* a double, to the argument (cli__opt_seconds, bad its usage error) */
	CLI_PERCENT,	/* a double in (0, 100], to the argument (bad its usage error) */
};

/* One option. Every verb also gets -h/--help, which is not in its table. */
struct cli_opt {
	const char *name;	/* the long name, without "--" */
	char short_name;	/* -x; 0: long only */
	const char *arg;	/* the argument's name (SECONDS, FILE); NULL: a flag */
	const char *help;	/* one line, lower case, no full stop */
	int key;		/* what the callback gets; 0: short_name */
	bool many;		/* may be repeated: "[--x ARG]..." in the synopsis */
	enum cli_store store;
	size_t offset;		/* of the field it sets, in the verb's arguments */
	const char *bad;	/* CLI_SECONDS, CLI_PERCENT: the start of its usage error ("-d wants seconds") */
};

/* 0, or (a build error) when type's field is not a ctype. */
#define CLI_FIELD_IS(type, field, ctype) \
	(sizeof(char[__builtin_types_compatible_p(__typeof__(((type *)0)->field), ctype) ? 1 : -1]) - 1)
#define CLI_AT(type, field, ctype) \
	.offset = offsetof(type, field) + CLI_FIELD_IS(type, field, ctype)

/* Table entries' tails: the option sets type's field (a bool, a string, seconds). */
#define CLI_SET_FLAG(type, field) .store = CLI_FLAG, CLI_AT(type, field, bool)
#define CLI_SET_STRING(type, field) .store = CLI_STRING, CLI_AT(type, field, const char *)
#define CLI_SET_SECONDS(type, field, usage_error) \
	.store = CLI_SECONDS, CLI_AT(type, field, double), .bad = usage_error
#define CLI_SET_PERCENT(type, field, usage_error) \
	.store = CLI_PERCENT, CLI_AT(type, field, double), .bad = usage_error

/* One verb. Its options end with an entry whose name is NULL. */
struct cli_verb {
	const char *name;
	const char *args;	/* positional synopsis ("PATCH.ko", "FUNC..."); "" for none */
	const char *summary;	/* one line, for --help and the docs */
	const struct cli_opt *opts;
	int min_args, max_args;	/* how many positionals; max_args -1: no limit */
	/* The usage error for any other count; a "%s" in it is the first one too many. */
	const char *args_error;
	/* What a bad option is called in its usage error; NULL: "unknown or incomplete option". */
	const char *bad_option;
	/* What may follow "--" ("PARAM=VALUE": "[-- PARAM=VALUE...]"); NULL: nothing. */
	const char *rest;
	/* Runs only with the privileges tracing kernel functions needs (cli__check_privileges). */
	bool traces;
	int (*run)(int argc, char **argv);
};

/* Called per option in command-line order; 0, or a negative errno (usage error said). */
typedef int cli_opt_fn(int key, const char *arg, void *data);

/* For callbacks: seconds into *out (cli__parse_seconds), or the usage error "WHAT, not 'ARG'". */
int cli__opt_seconds(const char *arg, double *out, const char *what);

#define CLI_MAX_OPTS 24

/*
 * Parses argv[1..argc) (argv[0] is the verb) against v's table: each option in
 * turn sets its field of data or, CLI_CALL ones, goes to fn (NULL where there are
 * none). Returns 0 with the positionals in argv[*first..argc) (their
 * count already checked; first may be NULL); 1 when --help was printed on stdout; -EINVAL after
 * one line `lpsentinel: usage error: ...` on stderr (or fn's own error).
 */
int cli__parse(const struct cli_verb *v, int argc, char **argv, cli_opt_fn *fn, void *data,
	       int *first);

/*
 * Where what follows "--" starts in argv (v->rest): past the first "--", or
 * argc when there is none. cli__parse reads only what comes before it.
 */
int cli__rest(const struct cli_verb *v, int argc, char **argv);

/* cli__parsed's "go on with the verb"; not an exit status. */
#define CLI_RUN (-1)

/*
 * What every verb does with what its parse returned (cli__parse's 0, 1 or
 * -errno): CLI_RUN to go on, or the exit status to return now: CLI_EXIT_OK
 * after --help, CLI_EXIT_USAGE after a usage error, CLI_EXIT_ERROR when v
 * traces and the privileges fall short (said on stderr).
 */
int cli__parsed(const struct cli_verb *v, int parsed);

/*
 * How option names, arguments and synopses are marked up: plain text
 * (--help), markdown (docs/usage.md) and roff (the manual pages, manpage.c)
 * print the same words from the same tables through one formatter each.
 */
struct cli_markup {
	const char *on, *mid, *off;	/* before an option, between it and its argument, after */
	const char *pad;	/* where a long-only option's "-x, " would be, in a list */
	const char *dash;	/* each '-' of an option or argument name */
	const char *sep;	/* between a synopsis's words */
	const char *cmd_on, *cmd_off;	/* around "lpsentinel VERB" in a synopsis */
	const char *arg_on, *arg_off;	/* around its positionals */
};

/* How many options v's table has (not counting --help). */
size_t cli__nopts(const struct cli_verb *v);
/* The i-th option of v, i <= cli__nopts(v): the last is -h/--help, which every verb takes. */
const struct cli_opt *cli__opt(const struct cli_verb *v, size_t i);
/* "-d, --duration SECONDS" (short: with "-d, ", else "--duration SECONDS"), marked up by m. */
void cli__opt_label(char *buf, size_t len, const struct cli_opt *o, bool with_short,
		    const struct cli_markup *m);
/* The option's help line, with " (repeatable)" for those that may be repeated. */
#define CLI_HELP_MAX 1024
void cli__opt_help(char *buf, size_t len, const struct cli_opt *o);

/* "lpsentinel VERB ARGS [--opt ARG]...", no newline. */
void cli__synopsis(FILE *f, const struct cli_verb *v);
/* The same, marked up by m. */
void cli__synopsis_marked(FILE *f, const struct cli_verb *v, const struct cli_markup *m);
/* The verb's --help: usage line, summary, one line per option. */
void cli__help(FILE *f, const struct cli_verb *v);
/* `lpsentinel --help`: one synopsis per verb. */
void cli__usage(FILE *f, const struct cli_verb *const *verbs, size_t n);
/* Every verb's synopsis and options as markdown (docs/usage.md). */
void cli__markdown(FILE *f, const struct cli_verb *const *verbs, size_t n);

extern const struct cli_verb cli_verb_inspect, cli_verb_trace, cli_verb_gate, cli_verb_watch,
	cli_verb_status, cli_verb_overhead, cli_verb_revert, cli_verb_pool, cli_verb_report;

#endif
