// SPDX-License-Identifier: GPL-2.0
/* lps-floor FUNC: attaches the empty fentry+fexit pair to FUNC until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: lps-floor FUNC\n");
		return 2;
	}
	skel = floor_bpf__open();
	if (!skel)
		return 1;
	if (bpf_program__set_attach_target(skel->progs.floor_entry, 0, argv[1]) ||
	    bpf_program__set_attach_target(skel->progs.floor_exit, 0, argv[1]) ||
	    floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "lps-floor: cannot attach to %s\n", argv[1]);
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "Tracing 1 function (empty fentry+fexit)\n");
	while (!stop)
		pause();
	ret = 0;
cleanup:
	floor_bpf__destroy(skel);
	return ret;
}
