// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel: livepatch safety monitor. Dispatches to one do_<verb> per command;
 * each verb's options are a table next to it (opts.h). `lpsentinel help`
 * prints them all as markdown (docs/usage.md, `make docs`), manual pages
 * (`make man`) and bash completion (`make completion`): help.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include "cli.h"
#include "log.h"
#include "manpage.h"
#include "opts.h"

/* The Makefile's, from debian/changelog: one version for the binary and the package. */
#ifndef LPS_VERSION
#error "LPS_VERSION is not set: build with make (it reads debian/changelog)"
#endif

/* The verbs, in the order `lpsentinel --help` and docs/usage.md list them. */
static const struct cli_verb *const verbs[] = {
	&cli_verb_inspect, &cli_verb_trace, &cli_verb_gate, &cli_verb_watch,
	&cli_verb_status, &cli_verb_overhead, &cli_verb_revert, &cli_verb_pool,
	&cli_verb_report,
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/*
 * Each traced function holds a dozen descriptors (programs, links, maps, BTF);
 * the default soft limit of 1024 would cap tracing near 80 functions.
 */
static void raise_fd_limit(void)
{
	struct rlimit r = { .rlim_cur = 1 << 20, .rlim_max = 1 << 20 };

	if (setrlimit(RLIMIT_NOFILE, &r) && !getrlimit(RLIMIT_NOFILE, &r)) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "lpsentinel: usage error: no command (see lpsentinel --help)\n");
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help"))
		return cli__help_cmd(argc - 1, argv + 1, verbs, NVERBS);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		cli__usage(stdout, verbs, NVERBS);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("lpsentinel %s\n", LPS_VERSION);
		return CLI_EXIT_OK;
	}
	lps_silence_libbpf();
	raise_fd_limit();
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(argv[1], verbs[i]->name))
			return verbs[i]->run(argc - 1, argv + 1);
	fprintf(stderr, "lpsentinel: usage error: unknown command '%s' (see lpsentinel --help)\n",
		argv[1]);
	return CLI_EXIT_USAGE;
}
