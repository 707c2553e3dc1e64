/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The manual pages, lpsentinel(8) and lpsentinel-VERB(8), and the bash
 * completion script: printed by the binary from the verbs' option tables
 * (opts.h), like --help and docs/usage.md, so none of them can drift from
 * what the parser takes. The prose the tables do not hold (what a verb does,
 * examples, files) is in one table of its own, manpage_text.c.
 */
#ifndef LPS_MANPAGE_H
#define LPS_MANPAGE_H

#include <stddef.h>
#include <stdio.h>
#include "cli.h"
#include "opts.h"

struct cli_man_example {
	const char *what;	/* one sentence */
	const char *command;	/* one shell line */
};

struct cli_man_file {
	const char *path;
	const char *what;
};

/* A section of its own: title, then paragraphs. */
struct cli_man_section {
	const char *title;
	const char *const *paras;
};

/*
 * A page's prose. Paragraphs are plain ASCII, one string each (NULL ends
 * the list): `text` in backquotes is set in bold, and a paragraph that starts
 * with "- " is a bulleted item. The emitter escapes the rest for roff.
 */
struct cli_man_text {
	const char *verb;			/* NULL: lpsentinel(8) */
	const char *const *description;
	/* What the verb means by each status; NULL: the general meaning (3: not used). */
	const char *exit[CLI_EXIT_REGRESSED + 1];
	const struct cli_man_section *sections;	/* after OPTIONS; ends with a NULL title */
	const struct cli_man_file *files;	/* ends with a NULL path */
	const struct cli_man_example *examples;	/* ends with a NULL command */
};

/* The prose of verb's page (NULL: of lpsentinel(8)); NULL when it has none. */
const struct cli_man_text *cli__man_text(const char *verb);
/* What status code means in t's page (t NULL: none of its own): its own words, or the general; NULL: not used. */
const char *cli__exit_meaning(const struct cli_man_text *t, int code);

/*
 * lpsentinel(8) (verb NULL) or lpsentinel-VERB(8) in roff on f: 0, or
 * -EINVAL when SOURCE_DATE_EPOCH (the page's date) is not a time (said on stderr).
 */
int cli__man_page(FILE *f, const struct cli_verb *const *verbs, size_t n, const struct cli_verb *v);

/* The bash completion script for every verb: 0, or -EINVAL (said on stderr). */
int cli__completion(FILE *f, const struct cli_verb *const *verbs, size_t n);

/* `lpsentinel help ...` (argv[0] is "help"): the exit status. */
int cli__help_cmd(int argc, char **argv, const struct cli_verb *const *verbs, size_t n);

#endif
