// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel watch [--rules FILE] [--state DIR] [--listen ADDR:PORT] [--function NAME]...
 *                  [--cpu-budget PERCENT]
 * The verb: its options, then the daemon (user/daemon/watch_loop.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "daemon_status.h"
#include "opts.h"
#include "watch.h"

static const struct cli_opt watch_opts[] = {
	{ "rules", 'r', "FILE", "rules file, reloaded on SIGHUP (default: the built-in rules)",
	  CLI_SET_STRING(struct watch_args, rules_path) },
	{ "state", 's', "DIR", "state file, audit trail, status and control socket (default "
	  WATCH_DEFAULT_STATE_DIR ")", CLI_SET_STRING(struct watch_args, state_dir) },
	{ "listen", 'l', "ADDR:PORT", "serve Prometheus /metrics there",
	  CLI_SET_STRING(struct watch_args, listen) },
	{ "function", 'f', "NAME", "keep a baseline for this function too", .many = true },
	{ "cpu-budget", 0, "PERCENT", "keep each function's probes under PERCENT of a CPU: they "
	  "sample in windows, and each observe window lasts whole cycles (default: the rules')",
	  CLI_SET_PERCENT(struct watch_args, cpu_budget,
			  "--cpu-budget wants a percentage above 0 and at most 100") },
	{ 0 },
};

const struct cli_verb cli_verb_watch = {
	.name = "watch", .args = "", .opts = watch_opts, .run = do_watch, .traces = true,
	.summary = "The daemon: rolling baselines; every livepatch that appears is judged, and "
		   "reverted on failure",
	.min_args = 0, .max_args = 0, .args_error = "watch takes no arguments, only options ('%s')",
};

/* --function, once per name. */
static int watch_opt(int key, const char *arg, void *data)
{
	struct watch_args *a = data;

	(void)key;
	for (size_t k = 0; k < a->nfunctions; k++)
		if (!strcmp(a->functions[k], arg))
			return 0;
	a->functions[a->nfunctions++] = arg;
	return 0;
}

static int parse_watch_args(int argc, char **argv, struct watch_args *a)
{
	a->state_dir = WATCH_DEFAULT_STATE_DIR;
	a->functions = calloc((size_t)argc + 1, sizeof(*a->functions));
	if (!a->functions)
		return -ENOMEM;
	return cli__parse(&cli_verb_watch, argc, argv, watch_opt, a, NULL);
}

int do_watch(int argc, char **argv)
{
	struct watch_args a = { 0 };
	int ret = cli__parsed(&cli_verb_watch, parse_watch_args(argc, argv, &a));

	if (ret == CLI_RUN)
		ret = watch__run(&a) ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	free(a.functions);
	return ret;
}
