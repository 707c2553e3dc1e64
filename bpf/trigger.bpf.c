// SPDX-License-Identifier: GPL-2.0
/*
 * Never attached: loaded only so that BPF_PROG_TEST_RUN on it makes the
 * kernel call its near-empty test functions (bpf_fentry_test1..8, see
 * net/bpf/test_run.c). lpsentinel traces bpf_fentry_test1 while doing so:
 * the latency it then records is what its own probes add inside a call
 * (user/self_cost.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/bpf_fentry_test8")
int BPF_PROG(lps_trigger)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
