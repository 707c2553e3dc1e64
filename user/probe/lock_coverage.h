/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which lock contention the contention_begin/end tracepoints can see here.
 * Spinlocks reach them only in qspinlock's queued slow path; a guest whose
 * CPU has the hypervisor bit but no paravirt spinlocks keeps
 * virt_spin_lock_key on, and its contended spinlocks spin in
 * virt_spin_lock() (a test-and-set loop) before any tracepoint. There the
 * lock_contention check covers sleeping locks (mutexes, rwsems) only.
 *
 * The kernel's rules (6.1 and 6.12, arch/x86): native_pv_lock_init turns the
 * key on when the hypervisor bit is set; only kvm_spinlock_init and
 * xen_init_spinlocks turn it off again. KVM: off with KVM_HINTS_REALTIME, a
 * single possible CPU or `nopvspin` (native qspinlock), and with
 * KVM_FEATURE_PV_UNHALT (paravirt qspinlock, whose slow path has the same
 * tracepoints); without PV_UNHALT it stays on. Xen: off, whether paravirt
 * spinlocks are on or not. Hyper-V paravirt spinlocks need the cluster-IPI
 * hint and guest idle, and no `hv_nopvspin`; otherwise the key stays on.
 * Every other hypervisor (VMware, QEMU TCG, ACRN...) leaves it on.
 */
#ifndef LPS_LOCK_COVERAGE_H
#define LPS_LOCK_COVERAGE_H

#include <stdbool.h>
#include <linux/types.h>

/* The raw CPUID values the decision reads. */
struct host_cpuid {
	bool hypervisor;	/* leaf 1 ECX bit 31 */
	bool kvm;		/* "KVMKVMKVM\0\0\0" at some base 0x40000000 + k * 0x100 */
	__u32 kvm_features;	/* that base + 1: EAX (KVM_FEATURE_*) */
	__u32 kvm_hints;	/* ...and EDX (KVM_HINTS_*) */
	bool xen;		/* "XenVMMXenVMM" at some base */
	bool hyperv;		/* "Microsoft Hv" at 0x40000000 */
	__u32 hv_features;	/* 0x40000003 EAX */
	__u32 hv_hints;		/* 0x40000004 EAX */
};

struct host_facts {
	struct host_cpuid cpuid;
	int possible_cpus;	/* <= 0: unknown */
	const char *cmdline;	/* /proc/cmdline; NULL: unreadable */
};

/*
 * NULL when every contended spinlock that queues reaches the tracepoints;
 * otherwise a static sentence for people, starting "sleeping locks only".
 * Pure: all it reads is f.
 */
const char *lock_coverage__decide(const struct host_facts *f);

/* The same for this host: CPUID, /proc/cmdline and the possible CPUs, read now. */
const char *lock_coverage__host(void);

#endif
