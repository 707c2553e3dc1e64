#!/usr/bin/env bash
# gate's health signals beyond latency, with a workload running throughout:
# the equivalent patch passes every check, function and system. The patches
# that must fail (a spinlock, a warning) are in gate_signals_fail.sh.
#
# Four vCPUs and four readers of the patched function: qspinlock reports
# contention (contention_begin) only for waiters that queue, and with two CPUs
# the one waiter spins on the pending bit instead, unseen. The lab CPU also
# hides the hypervisor bit: on a CPUID hypervisor without paravirt spinlocks
# the kernel uses a plain test-and-set lock with no tracepoint at all.
# vm-smp: 4
# Exclusive: lp_gate_ok must pass lock_contention and runqueue_latency, both
# comparisons of the observe window with the baseline (contentions per second
# x3, run-queue latency x2 and 1 ms), and four vCPUs share one TCG thread;
# a second guest on the host changes those rates between the windows.
# vm-exclusive: yes
. "$(dirname "$0")/lib.sh"
start_gate_workload 4

# Run-queue latency in a TCG guest follows the host's scheduler: four vCPU
# threads on the lab's two cores wait for the host in milliseconds (gate_keep
# in lib.sh runs the gate again after a revert for timing alone).
gate_keep lp_gate_ok
for c in lock_contention kernel_faults; do
	[[ $(check_of lp_gate_ok version_proc_show $c) == pass ]] || fail "lp_gate_ok: $c $(check_of lp_gate_ok version_proc_show $c)"
done
for c in lock_contention runqueue_latency kernel_faults; do
	[[ $(sys_check lp_gate_ok $c) == pass ]] || fail "lp_gate_ok: system $c $(sys_check lp_gate_ok $c)"
done
"$LPS" revert lp_gate_ok --unload >/dev/null
ok "equivalent patch passes every check ($(json "$WORK/lp_gate_ok.json" "d['system']['signals']") contention probes; runqueue: $(json "$WORK/lp_gate_ok.json" "[c['detail'] for c in d['system']['checks'] if c['check']=='runqueue_latency'][0]"))"

