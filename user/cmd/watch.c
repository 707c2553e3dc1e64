// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel watch [--rules FILE] [--state DIR] [--listen ADDR:PORT] [--function NAME]...
 * The verb: its options, then the daemon (user/daemon/watch_loop.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "daemon_status.h"
#include "watch.h"

static int parse_watch_args(int argc, char **argv, struct watch_args *a)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "function", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	a->state_dir = WATCH_DEFAULT_STATE_DIR;
	a->functions = calloc((size_t)argc + 1, sizeof(*a->functions));
	if (!a->functions)
		return -ENOMEM;
	while ((c = getopt_long(argc, argv, "r:s:l:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': a->rules_path = optarg; break;
		case 's': a->state_dir = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'f':
			for (size_t k = 0; k < a->nfunctions; k++)
				if (!strcmp(a->functions[k], optarg))
					optarg = NULL;
			if (optarg)
				a->functions[a->nfunctions++] = optarg;
			break;
		case 'h':
			printf("usage: lpsentinel watch [--rules FILE] [--state DIR] [--listen ADDR:PORT] "
			       "[--function NAME]...\n");
			return 1;
		default:
			return cli__usage_error("watch: unknown or incomplete option '%s' "
						"(see lpsentinel watch --help)", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli__usage_error("watch takes no arguments, only options ('%s')", argv[optind]);
	return 0;
}

int do_watch(int argc, char **argv)
{
	struct watch_args a = { 0 };
	int ret = parse_watch_args(argc, argv, &a);

	if (ret)
		ret = ret > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	else if (cli__check_privileges())
		ret = CLI_EXIT_ERROR;
	else
		ret = watch__run(&a) ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	free(a.functions);
	return ret;
}
