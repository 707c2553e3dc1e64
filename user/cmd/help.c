// SPDX-License-Identifier: GPL-2.0
/*
 * `lpsentinel help`: what the binary says about itself, every form printed
 * from the verbs' tables: the usage, a verb's --help, docs/usage.md
 * (--markdown), the manual pages (--man) and the bash completion
 * (--completion); --verbs lists the names, for `make man`.
 */
#include <stdio.h>
#include <string.h>
#include "manpage.h"

#define HELP_USAGE "help [COMMAND | --man [COMMAND] | --completion | --markdown | --verbs]"

static const struct cli_verb *find(const struct cli_verb *const *verbs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(verbs[i]->name, name))
			return verbs[i];
	return NULL;
}

static int too_many(const char *what, const char *extra)
{
	cli__usage_error("help %s takes nothing more, not '%s' (lpsentinel %s)", what, extra,
			 HELP_USAGE);
	return CLI_EXIT_USAGE;
}

int cli__help_cmd(int argc, char **argv, const struct cli_verb *const *verbs, size_t n)
{
	const char *what = argc > 1 ? argv[1] : NULL;
	const struct cli_verb *v = NULL;

	if (!what) {
		cli__usage(stdout, verbs, n);
		return CLI_EXIT_OK;
	}
	if (!strcmp(what, "--man")) {
		if (argc > 3)
			return too_many("--man COMMAND", argv[3]);
		if (argc == 3 && !(v = find(verbs, n, argv[2]))) {
			cli__usage_error("help --man: unknown command '%s' (see lpsentinel --help)",
					 argv[2]);
			return CLI_EXIT_USAGE;
		}
		if (cli__man_page(stdout, verbs, n, v))
			return CLI_EXIT_ERROR;
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return too_many(what, argv[2]);
	if (!strcmp(what, "--markdown")) {
		cli__markdown(stdout, verbs, n);
	} else if (!strcmp(what, "--completion")) {
		if (cli__completion(stdout, verbs, n))
			return CLI_EXIT_ERROR;
	} else if (!strcmp(what, "--verbs")) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", verbs[i]->name);
	} else if ((v = find(verbs, n, what))) {
		cli__help(stdout, v);
	} else {
		cli__usage_error("help: unknown command or option '%s' (lpsentinel %s)", what,
				 HELP_USAGE);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}
