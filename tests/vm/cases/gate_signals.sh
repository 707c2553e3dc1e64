#!/usr/bin/env bash
# gate's health signals beyond latency, with a workload running throughout:
# the equivalent patch passes every check, function and system; a patch that
# makes callers contend on a spinlock fails lock_contention (with the lock's
# caller as evidence); a patch that warns now and then fails kernel_faults,
# pinned on the replacement through the warning's call trace.
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

sys_check() {	# sys_check NAME CHECK -> result
	json "$WORK/$1.json" "[c['result'] for c in d['system']['checks'] if c['check']=='$2'][0]"
}

gate_case lp_gate_ok 0
for c in lock_contention kernel_faults; do
	[[ $(check_of lp_gate_ok version_proc_show $c) == pass ]] || fail "lp_gate_ok: $c $(check_of lp_gate_ok version_proc_show $c)"
done
for c in lock_contention runqueue_latency kernel_faults; do
	[[ $(sys_check lp_gate_ok $c) == pass ]] || fail "lp_gate_ok: system $c $(sys_check lp_gate_ok $c)"
done
"$LPS" revert lp_gate_ok --unload >/dev/null
ok "equivalent patch passes every check ($(json "$WORK/lp_gate_ok.json" "d['system']['signals']") contention probes; runqueue: $(json "$WORK/lp_gate_ok.json" "[c['detail'] for c in d['system']['checks'] if c['check']=='runqueue_latency'][0]"))"

gate_case lp_gate_lock 3
[[ $(check_of lp_gate_lock version_proc_show lock_contention) == fail ]] || { cat "$WORK/lp_gate_lock.json"; fail "spinlock patch: lock_contention did not fail"; }
callers=$(json "$WORK/lp_gate_lock.json" "[c['caller'] for c in d['functions'][0]['lock_callers'] if c['in_patched_code']]")
[[ $callers == *lp_gate_lock_version_show* ]] || { cat "$WORK/lp_gate_lock.json"; fail "spinlock patch: lock callers $callers"; }
[[ -e /sys/module/lp_gate_lock ]] && fail "reverted module still loaded"
ok "spinlock patch reverted: $(check_detail lp_gate_lock lock_contention); callers $callers"

gate_case lp_gate_warn 3
[[ $(check_of lp_gate_warn version_proc_show kernel_faults) == fail ]] || { cat "$WORK/lp_gate_warn.json"; fail "warning patch: kernel_faults did not fail"; }
[[ $(sys_check lp_gate_warn kernel_faults) == fail ]] || fail "warning patch: system kernel_faults did not fail"
[[ $(check_of lp_gate_warn version_proc_show latency) != fail ]] || fail "warning patch: latency blamed"
[[ -e /sys/module/lp_gate_warn ]] && fail "reverted module still loaded"
ok "warning patch reverted: $(check_detail lp_gate_warn kernel_faults)"
