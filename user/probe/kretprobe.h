/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Return probes that do not run out of instances. A kretprobe can follow only
 * maxactive calls in flight at once; perf's kprobe PMU (what libbpf uses) takes
 * the kernel default, max(10, 2 * CPUs) on 6.1, so recursion or tasks sleeping
 * in the function make it miss returns and every miss leaks a frame. The
 * tracefs interface lets us choose maxactive ("r<N>:..."), as libbpf's own
 * legacy mode does.
 */
#ifndef LPS_KRETPROBE_H
#define LPS_KRETPROBE_H

#include <stddef.h>

struct bpf_link;
struct bpf_program;

#define KRETPROBE_EVENT_LEN 64

/*
 * Creates tracefs kretprobe event `event` (written into event[KRETPROBE_EVENT_LEN],
 * unique in the process) on func with the given maxactive, and attaches
 * prog to it. NULL and errno set on failure; event[0] is '\0' when nothing was
 * created.
 */
struct bpf_link *kretprobe__attach(struct bpf_program *prog, const char *func, int maxactive,
				   char *event);
/* Removes the tracefs event; call after the link is destroyed. */
void kretprobe__remove(char *event);
/* maxactive for this machine: plenty of room for recursion and sleepers. */
int kretprobe__default_maxactive(void);

#endif
