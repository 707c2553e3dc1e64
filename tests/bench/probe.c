// SPDX-License-Identifier: GPL-2.0
/*
 * lps-probe FUNC: attaches lpsentinel's own fentry+fexit probes
 * (bpf/trace.bpf.c, through its skeleton) to FUNC, alone, until SIGINT/SIGTERM.
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
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "lpsentinel.h"
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
static void print_calls(const struct trace_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	struct lps_hist *h;
	__u64 calls = 0, unmatched = 0, sum_ns = 0;
	__u32 key = 0;

	h = ncpu > 0 ? calloc(ncpu, sizeof(*h)) : NULL;
	if (!h || bpf_map_lookup_elem(bpf_map__fd(skel->maps.hists), &key, h)) {
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

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct trace_bpf *skel;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: lps-probe FUNC\n");
		return 2;
	}
	skel = trace_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->lps_func_idx = 0;
	skel->rodata->lps_ret_kind = LPS_RET_INT32;
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == skel->progs.lps_fentry ||
					  prog == skel->progs.lps_fexit);
	if (bpf_program__set_attach_target(skel->progs.lps_fentry, 0, argv[1]) ||
	    bpf_program__set_attach_target(skel->progs.lps_fexit, 0, argv[1]) ||
	    trace_bpf__load(skel)) {
		fprintf(stderr, "lps-probe: cannot load the probes for %s\n", argv[1]);
		goto cleanup;
	}
	skel->links.lps_fentry = bpf_program__attach(skel->progs.lps_fentry);
	skel->links.lps_fexit = bpf_program__attach(skel->progs.lps_fexit);
	if (!skel->links.lps_fentry || !skel->links.lps_fexit) {
		fprintf(stderr, "lps-probe: cannot attach to %s\n", argv[1]);
		goto cleanup;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	fprintf(stderr, "Tracing 1 function (lpsentinel's fentry+fexit probes alone)\n");
	while (!stop) {
		pause();
		if (report) {
			report = 0;
			print_calls(skel);
		}
	}
	ret = 0;
cleanup:
	trace_bpf__destroy(skel);
	return ret;
}
