// SPDX-License-Identifier: GPL-2.0
/* The floor of per-function tracing cost: an fentry+fexit pair that does nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry")
int BPF_PROG(floor_entry)
{
	return 0;
}

SEC("fexit")
int BPF_PROG(floor_exit)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
