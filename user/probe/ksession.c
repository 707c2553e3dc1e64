// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "func_btf.h"
#include "ksession.h"

bool ksession__kernel_has(void)
{
	/*
	 * Both kfuncs came with session programs (Linux 6.10, kernel/trace/bpf_trace.c)
	 * taking no argument, as bpf/session.bpf.c calls them. 7.0 gave them the
	 * program's context (for fsession): the verifier refuses our program
	 * there (EINVAL on 7.2), so such a kernel has none we can load.
	 */
	return func_btf__kernel_func_params("bpf_session_cookie") == 0 &&
	       func_btf__kernel_func_params("bpf_session_is_return") == 0;
}

int ksession__fsession_type(void)
{
	static int type;	/* 0: not asked yet (BTF scans, asked per function) */
	__s64 v;

	if (type)
		return type;
	if (func_btf__kernel_func_params("bpf_session_is_return") != 1 ||
	    func_btf__kernel_func_params("bpf_session_cookie") != 1 ||
	    func_btf__kernel_enum_value("bpf_attach_type", "BPF_TRACE_FSESSION", &v) ||
	    v <= 0 || v > 1024)
		type = -ENOENT;
	else
		type = (int)v;
	return type;
}

unsigned ksession__copies(unsigned ncalls, int ncpus)
{
	unsigned per_copy = 2 * (unsigned)(ncpus > 0 ? ncpus : 1);

	return ncalls ? (ncalls + per_copy - 1) / per_copy : 1;
}

int ksession__link_create(int prog_fd, __u64 addr, unsigned copies)
{
	union bpf_attr attr;
	__u64 *addrs;
	int fd;

	/*
	 * The kernel sizes the link's return hooks by the addresses listed and
	 * takes the same address twice as once (ftrace's filter hash): a pool
	 * big enough for recursion and sleepers, the one thing fprobe, unlike a
	 * kretprobe, has no maxactive for in this ABI.
	 */
	addrs = calloc(copies, sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	for (unsigned i = 0; i < copies; i++)
		addrs[i] = addr;
	/*
	 * libbpf 1.1's bpf_link_create() refuses options for attach types it does
	 * not know, so the syscall itself; the attr layout is kprobe_multi's (5.18).
	 */
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (__u32)prog_fd;
	attr.link_create.attach_type = LPS_BPF_TRACE_KPROBE_SESSION;
	attr.link_create.kprobe_multi.cnt = copies;
	attr.link_create.kprobe_multi.addrs = (__u64)(unsigned long)addrs;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	if (fd < 0)
		fd = -errno;
	free(addrs);
	return fd;
}
