// SPDX-License-Identifier: GPL-2.0
#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lock_coverage.h"

/* arch/x86/include/uapi/asm/kvm_para.h and asm/hyperv-tlfs.h */
#define KVM_FEATURE_PV_UNHALT 7
#define KVM_HINTS_REALTIME 0
#define HV_X64_CLUSTER_IPI_RECOMMENDED (1u << 10)	/* hints */
#define HV_MSR_GUEST_IDLE_AVAILABLE (1u << 10)		/* features */

/* Is word one of cmdline's whitespace-separated parameters? */
static bool has_param(const char *cmdline, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = cmdline; p && *p; ) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (len == n && !strncmp(p, word, n))
			return true;
		p += len;
	}
	return false;
}

const char *lock_coverage__decide(const struct host_facts *f)
{
	const struct host_cpuid *c = &f->cpuid;

	/* Bare metal (as the kernel sees it): native qspinlock. */
	if (!c->hypervisor)
		return NULL;
	/* One CPU: no other CPU can hold a spinlock this one waits for. */
	if (f->possible_cpus == 1)
		return NULL;
	if (c->kvm) {
		if (c->kvm_hints & (1u << KVM_HINTS_REALTIME) || has_param(f->cmdline, "nopvspin") ||
		    c->kvm_features & (1u << KVM_FEATURE_PV_UNHALT))
			return NULL;
		return "sleeping locks only (mutexes, rwsems): on this KVM guest without paravirt "
		       "spinlocks (no PV_UNHALT) contended spinlocks spin in virt_spin_lock(), which "
		       "no tracepoint sees";
	}
	if (c->xen)
		return NULL;
	if (c->hyperv) {
		if (c->hv_hints & HV_X64_CLUSTER_IPI_RECOMMENDED &&
		    c->hv_features & HV_MSR_GUEST_IDLE_AVAILABLE && !has_param(f->cmdline, "hv_nopvspin"))
			return NULL;
		return "sleeping locks only (mutexes, rwsems): on this Hyper-V guest without paravirt "
		       "spinlocks contended spinlocks spin in virt_spin_lock(), which no tracepoint sees";
	}
	return "sleeping locks only (mutexes, rwsems): on this guest (hypervisor bit set, no KVM, "
	       "Xen or Hyper-V paravirt spinlocks) contended spinlocks spin in virt_spin_lock(), "
	       "which no tracepoint sees";
}

/* The 12-byte vendor signature of hypervisor leaf base is sig. */
static bool signature_at(__u32 base, const char *sig, __u32 *max_leaf)
{
	__u32 a, b, c, d;
	char s[12];

	__cpuid(base, a, b, c, d);
	memcpy(s, &b, 4);
	memcpy(s + 4, &c, 4);
	memcpy(s + 8, &d, 4);
	*max_leaf = a;
	return !memcmp(s, sig, sizeof(s));
}

static void read_cpuid(struct host_cpuid *c)
{
	__u32 a, b, ecx, d, max;

	memset(c, 0, sizeof(*c));
	__cpuid(1, a, b, ecx, d);
	c->hypervisor = ecx & (1u << 31);
	/* Leaves above 0x40000000 mean something only with the hypervisor bit. */
	if (!c->hypervisor)
		return;
	/* As the kernel's hypervisor_cpuid_base(): every 0x100 up to 0x40010000. */
	for (__u32 base = 0x40000000; base < 0x40010000; base += 0x100) {
		if (!c->kvm && signature_at(base, "KVMKVMKVM\0\0\0", &max) && max >= base + 1) {
			c->kvm = true;
			__cpuid(base + 1, c->kvm_features, b, ecx, c->kvm_hints);
		}
		if (!c->xen && signature_at(base, "XenVMMXenVMM", &max))
			c->xen = true;
	}
	if (signature_at(0x40000000, "Microsoft Hv", &max) && max >= 0x40000004) {
		c->hyperv = true;
		__cpuid(0x40000003, c->hv_features, b, ecx, d);
		__cpuid(0x40000004, c->hv_hints, b, ecx, d);
	}
}

const char *lock_coverage__host(void)
{
	struct host_facts f = { 0 };
	char cmdline[4096];
	FILE *fp;

	read_cpuid(&f.cpuid);
	f.possible_cpus = libbpf_num_possible_cpus();
	/*
	 * /proc/cmdline only where the decision reads it (KVM, Hyper-V): reading
	 * it runs cmdline_proc_show, a function a user or a test may be tracing
	 * (the trace cases count its calls exactly, and point a broken fentry
	 * probe at it because nothing else calls it).
	 */
	fp = f.cpuid.hypervisor && (f.cpuid.kvm || f.cpuid.hyperv) ?
	     fopen("/proc/cmdline", "re") : NULL;
	if (fp) {
		if (fgets(cmdline, sizeof(cmdline), fp))
			f.cmdline = cmdline;
		fclose(fp);
	}
	return lock_coverage__decide(&f);
}
