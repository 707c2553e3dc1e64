// SPDX-License-Identifier: GPL-2.0
/* lpsentinel: livepatch safety monitor. Dispatches to one do_<verb> per command. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include "cli.h"
#include "log.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
};

static const struct verb verbs[] = {
	{ "inspect", do_inspect, "inspect PATCH.ko [--json]" },
	{ "trace", do_trace, "trace FUNC... [-d SECONDS] [-i SECONDS] [--mode auto|fentry|kprobe] [--json]" },
	{ "gate", do_gate, "gate PATCH.ko [--baseline SECONDS] [--observe SECONDS] [--rules FILE] [--json] [--state DIR] [--standalone]" },
	{ "watch", do_watch, "watch [--rules FILE] [--state DIR] [--listen ADDR:PORT] [--function NAME]..." },
	{ "status", do_status, "status [--json] [--follow] [--state DIR]" },
	{ "overhead", do_overhead, "overhead PATCH.ko|PATCH [-d SECONDS] [--calibrate NOOP.ko] [--keep] [--json]" },
	{ "revert", do_revert, "revert PATCH [--timeout SECONDS] [--force] [--unload] [--json]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: lpsentinel COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  lpsentinel %s\n", verbs[i].synopsis);
}

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
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	lps_silence_libbpf();
	raise_fd_limit();
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "lpsentinel: usage error: unknown command '%s' (see lpsentinel --help)\n",
		argv[1]);
	return CLI_EXIT_USAGE;
}
