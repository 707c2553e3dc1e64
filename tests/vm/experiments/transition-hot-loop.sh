#!/usr/bin/env bash
# How long a livepatch transition takes beside a task calling getpid in a
# tight loop, without lpsentinel (docs/limits.md): lp_gate_getpid loaded idle,
# then beside the loop; the time from insmod until the patch's transition
# file reads 0. 2026-12-02: 6.12 3.8 s idle, 61.7 s beside the loop; again
# 5.0 s idle, 68.0 s beside the loop, 5.2 s beside the same loop sleeping
# 1 us a call; 6.1 2.5 s idle, 2.8 s beside the loop.
# Run: ./tests/vm/run-in-vm.sh KREL "bash tests/vm/experiments/transition-hot-loop.sh"
. tests/vm/cases/lib.sh
set +e
K=build/fixtures/$LPS_KREL
t_trans() {	# t_trans LABEL: insmod, time to transition 0, then disable and unload
	local m=lp_gate_getpid t0 t1
	t0=$(date +%s.%N)
	insmod "$K/$m.ko" || { echo "[$1] insmod failed"; return; }
	while [[ $(cat /sys/kernel/livepatch/$m/transition 2>/dev/null) != 0 ]]; do nap 0.1; done
	t1=$(date +%s.%N)
	echo "[$1] transition $(py -c "print(round($t1 - $t0, 2))") s"
	echo 0 >/sys/kernel/livepatch/$m/enabled
	while [[ -e /sys/kernel/livepatch/$m ]]; do nap 0.1; done
	rmmod $m
}
t_trans idle
"$LPLOAD" --getpid --procs 1 --seconds 300 >/dev/null &
load=$!
nap 1
t_trans "beside a getpid loop"
kill "$load"
wait "$load" 2>/dev/null
# The same loop sleeping 1 us after each call: a task that sleeps passes
# through the quiescent states RCU-tasks waits for.
"$LPLOAD" --getpid --procs 1 --pause-us 1 --seconds 300 >/dev/null &
load=$!
nap 1
t_trans "beside a getpid loop that sleeps 1 us a call"
kill "$load"
