#!/usr/bin/env bash
# What lock_contention can see, said with its result. With the CPUID
# hypervisor bit on and no paravirt spinlocks (QEMU TCG has none, and this
# case asks for that CPU below), virt_spin_lock() takes every contended
# spinlock out of sight: each lock_contention check says it covers sleeping
# locks only, and a keep says so in its reason. The spinlock patch is gated
# in JSON (its verdict, latency may revert it, is not what is tested here);
# the equivalent patch in text: never kept cleanly (the caveat in the
# verdict line of a keep, and under both lock_contention checks). About 160 s. On the
# lab's CPU (no hypervisor bit: native queued spinlocks) no check carries the
# caveat: gate_signals_fail.sh asserts that on both kernels.
# vm-cpu: max
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
want_hv=1
hv=0
[[ $(grep -m1 '^flags' /proc/cpuinfo) == *" hypervisor"* ]] && hv=1
[[ $hv == "$want_hv" ]] || fail "CPUID hypervisor bit $hv, want $want_hv (VM_CPU / # vm-cpu)"
start_gate_workload 2

if [[ $want_hv == 1 ]]; then
	rc=0
	timeout 300 "$LPS" gate "build/fixtures/$LPS_KREL/lp_gate_ok.ko" --baseline 3 --observe 4 \
		>"$WORK/ok.txt" 2>"$WORK/ok.err" || rc=$?
	# The verdict itself may go either way beside another guest (CI once saw
	# this equivalent patch's p90 at x30 while the host was shared); what is
	# asserted is that a keep is never a clean one.
	[[ $rc == 0 || $rc == 3 ]] || { cat "$WORK/ok.err" "$WORK/ok.txt"; fail "gate lp_gate_ok: exit $rc"; }
	ncov=$(grep -c '^ *coverage: sleeping locks only (mutexes, rwsems): ' "$WORK/ok.txt" || true)
	kept=$(grep -m1 '^gate lp_gate_ok: ' "$WORK/ok.txt")
	[[ $ncov == 2 ]] || { cat "$WORK/ok.txt"; fail "lp_gate_ok: $ncov coverage lines, want 2"; }
	[[ $rc == 3 || $kept == *"kept (no regression seen, but lock contention only for sleeping locks: spinlock contention is invisible on this host)" ]] ||
		{ cat "$WORK/ok.txt"; fail "lp_gate_ok: a clean keep: $kept"; }
	[[ -e /sys/kernel/livepatch/lp_gate_ok ]] && "$LPS" revert lp_gate_ok --unload >/dev/null
	ok "equivalent patch: $kept"
fi

rc=0 t0=$SECONDS
timeout 300 "$LPS" gate "build/fixtures/$LPS_KREL/lp_gate_lock.ko" --baseline 3 --observe 4 --json \
	>"$WORK/lock.json" 2>"$WORK/lock.err" || rc=$?
[[ $rc == 0 || $rc == 3 ]] || { cat "$WORK/lock.err" "$WORK/lock.json"; fail "gate: exit $rc"; }
# Every check as "where/check=coverage", "-" for none.
got=$(json "$WORK/lock.json" "' '.join(w + '/' + c['check'] + '=' + ('-' if 'coverage' not in c else 'partial' if c['coverage'].startswith('sleeping locks only') else 'other') for w, cs in [('system', d['system']['checks'])] + [(f['function'], f['checks']) for f in d['functions']] for c in cs)")
reason=$(json "$WORK/lock.json" "d['action'] + ': ' + d['reason']")
took=$((SECONDS - t0))
seen=$(json "$WORK/lock.json" "d['functions'][0]['observed_signals']['lock_contentions']")
if [[ $want_hv == 1 ]]; then
	want="system/transition=- system/lock_contention=partial system/runqueue_latency=- system/kernel_faults=- version_proc_show/latency=- version_proc_show/errors=- version_proc_show/lock_contention=partial version_proc_show/kernel_faults=-"
	[[ $got == "$want" ]] || { cat "$WORK/lock.json"; fail "checks: $got, want $want"; }
	[[ $reason != kept:* || $reason == *"only for sleeping locks"* ]] || fail "a clean keep: $reason"
	ok "hypervisor bit, no paravirt spinlocks: lock_contention covers sleeping locks only ($reason; $seen contentions seen in the patched function; gate ${took}s)"
else
	want="system/transition=- system/lock_contention=- system/runqueue_latency=- system/kernel_faults=- version_proc_show/latency=- version_proc_show/errors=- version_proc_show/lock_contention=- version_proc_show/kernel_faults=-"
	[[ $got == "$want" ]] || { cat "$WORK/lock.json"; fail "checks: $got, want $want"; }
	[[ $reason != *"sleeping locks"* ]] || fail "a caveat on native spinlocks: $reason"
	ok "native spinlocks: lock_contention without a caveat ($reason; $seen contentions seen in the patched function; gate ${took}s)"
fi
