/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Session programs, which libbpf 1.1 predates: which kinds the running kernel
 * has, the kernel ABI values, and the raw bpf(BPF_LINK_CREATE) that makes a
 * kprobe session link (docs/kernel-facts.md).
 */
#ifndef LPS_KSESSION_H
#define LPS_KSESSION_H

#include <stdbool.h>
#include <linux/types.h>

/* enum bpf_attach_type in Linux 6.10+'s uapi/linux/bpf.h (not in 6.1's headers). */
#define LPS_BPF_TRACE_KPROBE_SESSION 56

/* Does the running kernel have kprobe session programs (its BTF has their kfunc)? */
bool ksession__kernel_has(void);

/*
 * The running kernel's BPF_TRACE_FSESSION (its BTF's enum bpf_attach_type)
 * when it has tracing session programs lpsentinel can load (Linux 7.0+, with
 * the session kfuncs that take the context): > 0; else -ENOENT.
 */
int ksession__fsession_type(void);

/*
 * How many times to list one address in the link so that the kernel's pool of
 * return hooks (2 per CPU per address listed) holds ncalls calls in flight.
 */
unsigned ksession__copies(unsigned ncalls, int ncpus);

/*
 * A kprobe_multi link of session program prog_fd on the function at addr,
 * listed copies times: its fd, or -errno.
 */
int ksession__link_create(int prog_fd, __u64 addr, unsigned copies);

#endif
