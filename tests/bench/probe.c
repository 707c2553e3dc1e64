// SPDX-License-Identifier: GPL-2.0
/*
 * lps-probe FUNC [fsession]: attaches lpsentinel's own fentry+fexit probes
 * (bpf/trace.bpf.c, through its skeleton) to FUNC, alone, until SIGINT/SIGTERM;
 * with fsession, its tracing session probe (bpf/fsession.bpf.c, Linux 7.0+).
 * The same BPF as `lpsentinel trace FUNC --no-signals`, without lpsentinel's
 * userspace: under qemu -icount the guest's one clock counts the instructions
 * of every vCPU, so whatever lpsentinel's process does during a run (probe
 * checks, reads of its maps) lands in that run's figure too. This
 * configuration is the probe path alone, comparable with the floor pairs.
 * FUNC is taken to return an int (the bench's version_proc_show does).
 * SIGUSR1 prints the calls the probes counted so far and the sum of their
 * latencies ("calls N unmatched M sum_ns S" on stdout): that they still run
 * once a livepatch replaces FUNC, and what the latency they record becomes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "lpsentinel.h"
#include "fsession.skel.h"
#include "ksession.h"
#include "trace.skel.h"

static volatile sig_atomic_t stop, report;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

/* The function's calls and unmatched returns, summed over the CPUs. */
static void print_calls(const struct bpf_map *hists)
{
	int ncpu = libbpf_num_possible_cpus();
	struct lps_hist *h;
	__u64 calls = 0, unmatched = 0, sum_ns = 0;
	__u32 key = 0;

	h = ncpu > 0 ? calloc(ncpu, sizeof(*h)) : NULL;
	if (!h || bpf_map_lookup_elem(bpf_map__fd(hists), &key, h)) {
		printf("calls ? (cannot read the histogram)\n");
		goto cleanup;
	}
	for (int c = 0; c < ncpu; c++)
		calls += h[c].calls, unmatched += h[c].unmatched, sum_ns += h[c].sum_ns;
	printf("calls %llu unmatched %llu sum_ns %llu\n", (unsigned long long)calls,
	       (unsigned long long)unmatched, (unsigned long long)sum_ns);
cleanup:
	fflush(stdout);
	free(h);
}

/* The session probe alone: one program, the kernel's attach type. */
static struct fsession_bpf *load_fsession(const char *func)
{
	struct fsession_bpf *skel = fsession_bpf__open();
	int type = ksession__fsession_type();

	if (!skel || type < 0)
		goto fail;
	skel->rodata->lps_func_idx = 0;
	skel->rodata->lps_ret_kind = LPS_RET_INT32;
	bpf_program__set_expected_attach_type(skel->progs.lps_fsession, (enum bpf_attach_type)type);
	if (bpf_program__set_attach_target(skel->progs.lps_fsession, 0, func) ||
	    fsession_bpf__load(skel))
		goto fail;
	skel->links.lps_fsession = bpf_program__attach_trace(skel->progs.lps_fsession);
	if (!skel->links.lps_fsession)
		goto fail;
	return skel;
fail:
	fprintf(stderr, "lps-probe: cannot attach the fsession probe to %s\n", func);
	fsession_bpf__destroy(skel);
	return NULL;
}

/* The fentry+fexit pair alone, as trace --mode fentry loads it. */
static struct trace_bpf *load_fentry(const char *func)
{
	struct bpf_program *prog;
	struct trace_bpf *skel = trace_bpf__open();

	if (!skel)
		return NULL;
	skel->rodata->lps_func_idx = 0;
	skel->rodata->lps_ret_kind = LPS_RET_INT32;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.lps_fentry ||
					  prog == skel->progs.lps_fexit);
	if (bpf_program__set_attach_target(skel->progs.lps_fentry, 0, func) ||
	    bpf_program__set_attach_target(skel->progs.lps_fexit, 0, func) ||
	    trace_bpf__load(skel)) {
		fprintf(stderr, "lps-probe: cannot load the probes for %s\n", func);
		goto fail;
	}
	skel->links.lps_fentry = bpf_program__attach(skel->progs.lps_fentry);
	skel->links.lps_fexit = bpf_program__attach(skel->progs.lps_fexit);
	if (!skel->links.lps_fentry || !skel->links.lps_fexit) {
		fprintf(stderr, "lps-probe: cannot attach to %s\n", func);
		goto fail;
	}
	return skel;
fail:
	trace_bpf__destroy(skel);
	return NULL;
}

int main(int argc, char **argv)
{
	struct fsession_bpf *fs = NULL;
	struct trace_bpf *skel = NULL;
	const struct bpf_map *hists;
	bool session = argc == 3 && !strcmp(argv[2], "fsession");

	if (argc != 2 && !session) {
		fprintf(stderr, "usage: lps-probe FUNC [fsession]\n");
		return 2;
	}
	if (session)
		fs = load_fsession(argv[1]);
	else
		skel = load_fentry(argv[1]);
	if (!fs && !skel)
		return 1;
	hists = fs ? fs->maps.hists : skel->maps.hists;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	fprintf(stderr, "Tracing 1 function (lpsentinel's %s probes alone)\n",
		fs ? "fsession" : "fentry+fexit");
	while (!stop) {
		pause();
		if (report) {
			report = 0;
			print_calls(hists);
		}
	}
	fsession_bpf__destroy(fs);
	trace_bpf__destroy(skel);
	return 0;
}
