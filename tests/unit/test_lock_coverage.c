// SPDX-License-Identifier: GPL-2.0
/*
 * Which hosts hide spinlock contention from the contention tracepoints
 * (lock_coverage.h): the kernel's own rules, from raw CPUID values, the
 * command line and the number of possible CPUs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lock_coverage.h"

#define PV_UNHALT (1u << 7)
#define REALTIME (1u << 0)
#define BIT10 (1u << 10)

static const struct {
	const char *name;
	struct host_facts f;
	bool hidden;
} hosts[] = {
	{ "bare metal", { .possible_cpus = 64, .cmdline = "ro quiet" }, false },
	/* -cpu max,hypervisor=off under TCG: the kernel believes it runs on metal. */
	{ "no hypervisor bit, KVM leaves", { { .kvm = true }, 4, "" }, false },
	/* The lab's default-ish guest: QEMU TCG -cpu max, hypervisor bit on, no KVM leaves. */
	{ "TCG guest", { { .hypervisor = true }, 2, "console=ttyS0" }, true },
	{ "TCG guest, cmdline unreadable", { { .hypervisor = true }, 2, NULL }, true },
	{ "TCG guest, CPU count unknown", { { .hypervisor = true }, 0, "" }, true },
	/* One CPU: nothing to contend with, whatever the hypervisor. */
	{ "TCG guest, one CPU", { { .hypervisor = true }, 1, "" }, false },
	{ "KVM with PV_UNHALT", { { .hypervisor = true, .kvm = true, .kvm_features = PV_UNHALT },
				  8, "" }, false },
	{ "KVM without PV_UNHALT", { { .hypervisor = true, .kvm = true, .kvm_features = ~PV_UNHALT },
				     8, "" }, true },
	{ "KVM without PV_UNHALT, one CPU", { { .hypervisor = true, .kvm = true }, 1, "" }, false },
	/* kvm_spinlock_init turns virt_spin_lock_key off: native qspinlock, seen. */
	{ "KVM without PV_UNHALT, nopvspin", { { .hypervisor = true, .kvm = true }, 8,
					       "ro nopvspin quiet" }, false },
	{ "KVM without PV_UNHALT, nopvspin last", { { .hypervisor = true, .kvm = true }, 8,
						    "ro nopvspin\n" }, false },
	{ "KVM without PV_UNHALT, a look-alike parameter",
	  { { .hypervisor = true, .kvm = true }, 8, "nopvspinx hv_nopvspin xnopvspin" }, true },
	{ "KVM realtime hint", { { .hypervisor = true, .kvm = true, .kvm_hints = REALTIME }, 8, "" },
	  false },
	{ "Xen", { { .hypervisor = true, .xen = true }, 8, "" }, false },
	{ "Xen, nopvspin", { { .hypervisor = true, .xen = true }, 8, "nopvspin" }, false },
	{ "Hyper-V with PV spinlocks", { { .hypervisor = true, .hyperv = true, .hv_hints = BIT10,
					   .hv_features = BIT10 }, 8, "" }, false },
	{ "Hyper-V, hv_nopvspin", { { .hypervisor = true, .hyperv = true, .hv_hints = BIT10,
				      .hv_features = BIT10 }, 8, "hv_nopvspin" }, true },
	/* Hyper-V ignores the generic nopvspin (6.1 and 6.12 hv_spinlock.c). */
	{ "Hyper-V, nopvspin", { { .hypervisor = true, .hyperv = true, .hv_hints = BIT10,
				   .hv_features = BIT10 }, 8, "nopvspin" }, false },
	{ "Hyper-V without the cluster IPI hint", { { .hypervisor = true, .hyperv = true,
						      .hv_features = BIT10 }, 8, "" }, true },
	{ "Hyper-V without guest idle", { { .hypervisor = true, .hyperv = true, .hv_hints = BIT10 },
					  8, "" }, true },
	/* KVM with Hyper-V enlightenments: the kernel takes KVM's rules. */
	{ "KVM with Hyper-V leaves, PV_UNHALT", { { .hypervisor = true, .kvm = true,
						    .kvm_features = PV_UNHALT, .hyperv = true },
						  8, "" }, false },
	{ "KVM with Hyper-V leaves, no PV_UNHALT",
	  { { .hypervisor = true, .kvm = true, .hyperv = true, .hv_hints = BIT10,
	      .hv_features = BIT10 }, 8, "" }, true },
};

static void test_hosts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		const char *got = lock_coverage__decide(&hosts[i].f);

		if (!!got != hosts[i].hidden) {
			print_error("%s: got %s, want %s\n", hosts[i].name, got ? got : "all locks",
				    hosts[i].hidden ? "sleeping locks only" : "all locks");
			fail();
		}
		if (got)
			assert_non_null(strstr(got, "sleeping locks only"));
	}
}

/* Each kind of hidden host names itself. */
static void test_says_why(void **state)
{
	struct host_facts kvm = { { .hypervisor = true, .kvm = true }, 2, "" };
	struct host_facts hv = { { .hypervisor = true, .hyperv = true }, 2, "" };
	struct host_facts other = { { .hypervisor = true }, 2, "" };

	(void)state;
	assert_non_null(strstr(lock_coverage__decide(&kvm), "KVM guest without paravirt spinlocks"));
	assert_non_null(strstr(lock_coverage__decide(&hv), "Hyper-V guest"));
	assert_non_null(strstr(lock_coverage__decide(&other), "hypervisor bit set"));
}

/* The host reader runs anywhere and agrees with the CPU's hypervisor bit. */
static void test_this_host(void **state)
{
	unsigned int a, b, c, d;

	(void)state;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 31)))
		assert_null(lock_coverage__host());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_says_why),
		cmocka_unit_test(test_this_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
