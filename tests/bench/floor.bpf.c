// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of per-function tracing cost: an fentry+fexit pair that does
 * nothing (floor_entry/floor_exit). Beside it, pairs that add one of the
 * operations lpsentinel's probes do, the same on entry and on return, so that
 * the bench can say what each part of a traced call costs (docs/benchmarks.md).
 * lps-floor loads one pair only; each pair is its own program, not one program
 * with runtime switches, so no variant pays for the tests of another.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} per_task SEC(".maps");

/* Written so that the compiler cannot drop the call that produced the value. */
__u64 sink;

enum part {
	PART_LOOKUP = 1,	/* bpf_map_lookup_elem on a per-CPU array, then ++ */
	PART_CURTASK = 2,	/* bpf_get_current_task_btf, then one field read */
	PART_STORAGE = 4,	/* bpf_get_current_task_btf + bpf_task_storage_get */
	PART_CLOCK = 8,		/* bpf_ktime_get_ns */
};

/* Constant-folded per pair: a pair contains only its own parts. */
static __always_inline void parts(__u32 which, __u64 create)
{
	if (which & PART_LOOKUP) {
		__u32 k = 0;
		__u64 *n = bpf_map_lookup_elem(&counts, &k);

		if (n)
			*n += 1;
	}
	if (which & PART_CURTASK)
		sink = bpf_get_current_task_btf()->pid;
	if (which & PART_STORAGE) {
		__u64 *v = bpf_task_storage_get(&per_task, bpf_get_current_task_btf(), 0, create);

		if (v)
			*v += 1;
	}
	if (which & PART_CLOCK)
		sink = bpf_ktime_get_ns();
}

#define PAIR(name, which)						\
SEC("fentry")								\
int BPF_PROG(name##_entry)						\
{									\
	parts(which, BPF_LOCAL_STORAGE_GET_F_CREATE);			\
	return 0;							\
}									\
SEC("fexit")								\
int BPF_PROG(name##_exit)						\
{									\
	parts(which, 0);						\
	return 0;							\
}

PAIR(floor, 0)
PAIR(lookup, PART_LOOKUP)
PAIR(curtask, PART_CURTASK)
PAIR(storage, PART_STORAGE)
PAIR(clock, PART_CLOCK)
/* all three calls lpsentinel's probes make on each side, without its logic */
PAIR(calls, PART_LOOKUP | PART_STORAGE | PART_CLOCK)

/*
 * The floor of a tracing session (Linux 7.0+): one empty program the
 * trampoline runs at entry and at return, as bpf/fsession.bpf.c is. Its
 * attach type is set by lps-floor from the kernel's BTF (libbpf 1.1 has no
 * section for it); an object naming no session kfunc loads on every kernel.
 */
SEC("fentry")
int BPF_PROG(fsession_entry)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
