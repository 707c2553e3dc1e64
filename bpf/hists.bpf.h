/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every per-function probe object has (trace.bpf.c, session.bpf.c): who
 * it is, baked into .rodata, and the histograms map. Userspace hands each
 * object the first one's map by fd, so the definition must be one.
 */
#ifndef LPS_HISTS_BPF_H
#define LPS_HISTS_BPF_H

const volatile __u32 lps_func_idx = 0;
const volatile __u32 lps_ret_kind = LPS_RET_VOID;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);		/* resized to the function count by userspace */
	__type(key, __u32);
	__type(value, struct lps_hist);
} hists SEC(".maps");

#endif
