#!/usr/bin/env bash
# gate end to end, with a workload running throughout: an equivalent patch is
# kept; a slow one and a failing one are reverted and unloaded; of two
# functions, exactly the regressing one is blamed; SIGINT and a workload that
# stops make it revert; a malformed rules file is refused before anything is
# loaded.
# The workload sleeps 50 us between reads: with tasks that never sleep and an
# error path that never blocks, RCU-tasks grace periods (which the trampoline
# and the livepatch transition wait for) stalled the 6.12 guest for minutes.
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
"$LPLOAD" --file /proc/version --procs 2 --seconds 900 --pause-us 50 >/dev/null &
l1=$!
"$LPLOAD" --file /proc/loadavg --procs 1 --seconds 900 --pause-us 50 >/dev/null &
l2=$!
trap "pkill -x lpload || true" EXIT

# gate_case NAME WANT_RC
gate_case() {
	local rc=0
	timeout 300 "$LPS" gate "$FX/$1.ko" --baseline 4 --observe 6 --json >"$WORK/$1.json" 2>"$WORK/$1.err" || rc=$?
	[[ $rc == "$2" ]] || { cat "$WORK/$1.err" "$WORK/$1.json"; fail "gate $1: exit $rc, want $2"; }
}
verdict() { json "$WORK/$1.json" "(d['verdict'], d['action'])"; }
check_of() {	# check_of NAME FUNC CHECK -> result
	json "$WORK/$1.json" "[c['result'] for f in d['functions'] if f['function']=='$2' for c in f['checks'] if c['check']=='$3'][0]"
}

gate_case lp_gate_ok 0
[[ $(verdict lp_gate_ok) == "('pass', 'kept')" ]] || fail "lp_gate_ok: $(verdict lp_gate_ok)"
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "kept patch is not live"
"$LPS" revert lp_gate_ok --unload >/dev/null
ok "equivalent patch kept: $(check_of lp_gate_ok version_proc_show latency) latency"

gate_case lp_gate_slow 3
[[ $(verdict lp_gate_slow) == "('fail', 'reverted')" ]] || fail "lp_gate_slow: $(verdict lp_gate_slow)"
[[ $(check_of lp_gate_slow version_proc_show latency) == fail ]] || fail "slow patch: latency did not fail"
[[ -e /sys/module/lp_gate_slow ]] && fail "reverted module still loaded"
looks=$(json "$WORK/lp_gate_slow.json" "d['looks']")
ok "slow patch reverted after $looks look(s): $(json "$WORK/lp_gate_slow.json" "[c['detail'] for c in d['functions'][0]['checks'] if c['check']=='latency'][0]")"

gate_case lp_gate_err 3
[[ $(check_of lp_gate_err version_proc_show errors) == fail ]] || fail "failing patch: errors did not fail"
[[ -e /sys/module/lp_gate_err ]] && fail "reverted module still loaded"
ok "failing patch reverted: $(json "$WORK/lp_gate_err.json" "[c['detail'] for c in d['functions'][0]['checks'] if c['check']=='errors'][0]")"

gate_case lp_gate_two 3
[[ $(check_of lp_gate_two loadavg_proc_show latency) == fail ]] || fail "two: loadavg not blamed"
[[ $(check_of lp_gate_two version_proc_show latency) != fail ]] || fail "two: version blamed too"
ok "two-function patch: loadavg_proc_show blamed, version_proc_show $(check_of lp_gate_two version_proc_show latency)"

# SIGINT while observing: revert, unload, exit 1 saying so
"$LPS" gate "$FX/lp_gate_ok.ko" --baseline 2 --observe 60 >"$WORK/int.out" 2>"$WORK/int.err" &
g=$!
for _ in $(seq 1 1200); do grep -q "patched; observing" "$WORK/int.err" && break; sleep 0.1; done
sleep 2
kill -INT $g
rc=0; wait $g || rc=$?
[[ $rc == 1 ]] || { cat "$WORK/int.err"; fail "interrupted gate: exit $rc, want 1"; }
grep -q "interrupted while observing; the patch was reverted" "$WORK/int.err" || fail "interrupted gate: $(cat "$WORK/int.err")"
[[ -e /sys/module/lp_gate_ok ]] && fail "interrupted gate left the module loaded"
ok "SIGINT while observing: $(tail -1 "$WORK/int.err")"

# the workload stops while observing: revert rather than keep an unjudged patch
"$LPS" gate "$FX/lp_gate_ok.ko" --baseline 3 --observe 60 >"$WORK/stop.out" 2>"$WORK/stop.err" &
g=$!
for _ in $(seq 1 1200); do grep -q "patched; observing" "$WORK/stop.err" && break; sleep 0.1; done
sleep 2
pkill -x lpload; wait $l1 $l2 2>/dev/null || true	# the workers too, not just the parents
rc=0; wait $g || rc=$?
[[ $rc == 1 ]] || { cat "$WORK/stop.err"; fail "stopped workload: exit $rc, want 1"; }
grep -q "calls stopped while observing" "$WORK/stop.err" || fail "stopped workload: $(cat "$WORK/stop.err")"
grep -q "^gate lp_gate_ok: inconclusive, reverted" "$WORK/stop.out" || fail "stopped workload: $(head -1 "$WORK/stop.out")"
[[ -e /sys/module/lp_gate_ok ]] && fail "stopped workload left the module loaded"
ok "workload stopped while observing: reverted ($(tail -1 "$WORK/stop.err"))"

printf 'defaults:\n  baseline_s: 4\n  colour: red\n' >"$WORK/bad.yaml"
rc=0; "$LPS" gate "$FX/lp_gate_ok.ko" --rules "$WORK/bad.yaml" 2>"$WORK/bad.err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/bad.err") == 1 ]] || fail "bad rules: rc=$rc"
grep -q "bad.yaml:3: unknown setting 'colour'" "$WORK/bad.err" || fail "bad rules message: $(cat "$WORK/bad.err")"
[[ -e /sys/module/lp_gate_ok ]] && fail "module loaded despite bad rules"
ok "malformed rules refused before loading: $(cat "$WORK/bad.err")"
