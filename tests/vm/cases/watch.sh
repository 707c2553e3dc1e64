#!/usr/bin/env bash
# The watch daemon's verdicts under a live workload: it catches a regressing
# patch loaded behind its back and reverts it (the time from insmod to the
# revert is reported), survives kill -9 while judging a harmless patch and
# keeps it from the saved baseline, and exits 0 on SIGTERM with every probe
# detached. What asserts no timing (SIGHUP, metrics and Prometheus, gate's
# hand-over, unwatched functions, kill -9 at random points) is in watch_ops.sh.
# vm-timeout: 900
# Exclusive: the daemon's verdicts compare rolling baselines with observe
# windows; lp_gate_ok must be kept after the restart (its system run-queue
# check runs at 50 ms here, below), and the revert time after insmod is
# reported.
# vm-exclusive: yes
# One kernel (6.1): on 6.12 the daemon's reverts are proven by watch_ops and
# watch_modules (and on 6.1 too); what is left here is its timing verdicts
# and the restart from a saved baseline, the daemon's own code. On 6.12 it
# took 127 s alone in the last full run.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
. tests/vm/watch_lib.sh
# The system run-queue check at 50 ms, not 1 ms: this case proves the
# daemon's verdicts and its restart, and CI's host once kept the guest's
# vCPUs waiting 2 to 35 ms (gate.sh on 6.1 and 6.12, same run), which moves
# that check in one window and not the other. The check itself, passing and
# failing, is proven by gate_signals.sh and gate_signals_fail.sh.
sed -i 's/^\(      min_delta_ns:\) 1000000 # \.\.\.and at least 1 ms worse$/\1 50000000/' "$WORK/rules.yaml"
grep -q '^      min_delta_ns: 50000000$' "$WORK/rules.yaml" || fail "rules: run-queue min_delta_ns not set"

start_watching

# A regressing patch, loaded behind the daemon's back.
t0=$(date +%s.%N)
insmod "$FX/lp_gate_slow.ko"
wait_for 120 "verdict on lp_gate_slow" audit_has lp_gate_slow
t1=$(date +%s.%N)
[[ $(audit_field lp_gate_slow "(r['verdict'], r['action'])") == "('fail', 'reverted')" ]] ||
	fail "lp_gate_slow: $(tail -n1 "$S/audit.jsonl")"
[[ $(audit_field lp_gate_slow "[c['result'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]") == fail ]] ||
	fail "lp_gate_slow: latency did not fail"
[[ -e /sys/module/lp_gate_slow ]] && fail "reverted module still loaded"
grep -q 'lpsentinel.*patch lp_gate_slow: fail, reverted' "$WORK/syslog.txt" ||
	fail "no syslog record of the revert: $(tail -c 300 "$WORK/syslog.txt")"
sys_checks=$(audit_field lp_gate_slow "sorted(c['check'] for c in r['system']['checks'])")
[[ $sys_checks == "['kernel_faults', 'lock_contention', 'runqueue_latency', 'transition']" ]] ||
	fail "lp_gate_slow: system checks $sys_checks"
ok "lp_gate_slow reverted and unloaded $(py -c "print(round($t1 - $t0, 1))") s after insmod: $(audit_field lp_gate_slow "[c['detail'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]")"

# kill -9 while judging a patch: the restarted daemon judges it from the saved baseline.
insmod "$FX/lp_gate_ok.ko"
# Being judged: in transition or observed.
judging_ok() { file_has "$S/status.json" '"patch":"lp_gate_ok","state":"transition"' ||
	file_has "$S/status.json" '"patch":"lp_gate_ok","state":"observing"'; }
wait_for 120 "lp_gate_ok under judgement" judging_ok
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" || true
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "lp_gate_ok gone after the daemon was killed"
t0=$SECONDS
start_daemon daemon2.err
# The restart can be slow in the lab: over 120 s once on 6.1 in CI. Not a
# wait in the kernel, as first thought: the kernel stack sampled at 30 s
# (printed below when it happens) showed it returning from a syscall, i.e.
# busy in user space or waiting for the CPU behind the workload. Then the
# judgement itself: transition, observe window, verdict.
( sleep 30; grep -q watching "$WORK/daemon2.err" ||
	{ echo "restart still attaching after 30 s; its kernel stack:"; cat /proc/$DAEMON_PID/stack; } ) 2>&1 &
wait_for 300 "restart after kill -9 while judging" file_has "$WORK/daemon2.err" watching
restart_s=$((SECONDS - t0))
wait_for 120 "verdict on lp_gate_ok after restart" audit_has lp_gate_ok
grep -Eq 'state: [1-9][0-9]* baselines' "$WORK/daemon2.err" || { cat "$WORK/daemon2.err"; fail "restart did not load the baseline"; }
grep -q 'ignored' "$WORK/daemon2.err" && { cat "$WORK/daemon2.err"; fail "state ignored after kill -9"; }
# The restarted daemon traces the now-patched function with kprobes; its saved
# baseline was measured with fentry: latency is not compared (a false revert
# here was seen once), errors and faults are.
[[ $(audit_field lp_gate_ok "r['action']") == kept ]] ||
	fail "lp_gate_ok after restart: $(tail -n1 "$S/audit.jsonl")"
lat=$(audit_field lp_gate_ok "[c['detail'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]")
[[ $lat == *"not comparable"* ]] || fail "lp_gate_ok after restart: latency compared across attach methods: $lat"
[[ $(audit_field lp_gate_ok "[c['result'] for c in r['functions'][0]['checks'] if c['check']=='errors'][0]") == pass ]] ||
	fail "lp_gate_ok after restart: errors not judged against the saved baseline"
ok "killed with SIGKILL while judging lp_gate_ok; restarted in ${restart_s} s, state intact, kept: $lat"

# SIGTERM: clean exit 0, every probe detached; the kept patch stays.
stop_daemon_clean daemon2.err
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "kept patch gone after SIGTERM"
"$LPS" revert lp_gate_ok --unload >/dev/null
ok "SIGTERM: exit 0, no BPF program left; audit trail has $(wc -l <"$S/audit.jsonl") decisions"
