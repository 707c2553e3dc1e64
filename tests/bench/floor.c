// SPDX-License-Identifier: GPL-2.0
/*
 * lps-floor FUNC [PAIR]: attaches one fentry+fexit pair of floor.bpf.c to FUNC
 * until SIGINT/SIGTERM. PAIR is floor (default: the empty pair), lookup,
 * curtask, storage, clock or calls (see floor.bpf.c); the other pairs are not
 * loaded.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"
#include "ksession.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *pair = argc == 3 ? argv[2] : "floor";
	struct bpf_program *prog;
	struct floor_bpf *skel;
	char entry[64], exit_[64];
	int ret = 1, found = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: lps-floor FUNC [PAIR]\n");
		return 2;
	}
	snprintf(entry, sizeof(entry), "%s_entry", pair);
	snprintf(exit_, sizeof(exit_), "%s_exit", pair);
	skel = floor_bpf__open();
	if (!skel)
		return 1;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		int mine = !strcmp(name, entry) || !strcmp(name, exit_);

		found += mine;
		if (bpf_program__set_autoload(prog, mine) ||
		    (mine && bpf_program__set_attach_target(prog, 0, argv[1]))) {
			fprintf(stderr, "lps-floor: cannot set up %s\n", name);
			goto cleanup;
		}
	}
	/* fsession: one program for both ends, of the kernel's own attach type. */
	if (!strcmp(pair, "fsession")) {
		int type = ksession__fsession_type();

		if (type < 0) {
			fprintf(stderr, "lps-floor: this kernel has no tracing session programs\n");
			goto cleanup;
		}
		bpf_program__set_expected_attach_type(skel->progs.fsession_entry,
						      (enum bpf_attach_type)type);
		found++;
	}
	if (found != 2) {
		fprintf(stderr, "lps-floor: no pair %s in floor.bpf.c\n", pair);
		goto cleanup;
	}
	if (floor_bpf__load(skel) || floor_bpf__attach(skel)) {
		fprintf(stderr, "lps-floor: cannot attach %s to %s\n", pair, argv[1]);
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "Tracing 1 function (fentry+fexit pair %s)\n", pair);
	while (!stop)
		pause();
	ret = 0;
cleanup:
	floor_bpf__destroy(skel);
	return ret;
}
