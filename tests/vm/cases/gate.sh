#!/usr/bin/env bash
# gate end to end, with a workload running throughout: an equivalent patch is
# kept; a slow one and a failing one are reverted and unloaded; of two
# functions, exactly the regressing one is blamed; a malformed rules file is
# refused before anything is loaded.
# The workload sleeps 50 us between reads: with tasks that never sleep and an
# error path that never blocks, RCU-tasks grace periods (which the trampoline
# and the livepatch transition wait for) stalled the 6.12 guest for minutes.
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
"$LPLOAD" --file /proc/version --procs 2 --seconds 900 --pause-us 50 >/dev/null &
l1=$!
"$LPLOAD" --file /proc/loadavg --procs 1 --seconds 900 --pause-us 50 >/dev/null &
l2=$!
trap 'kill $l1 $l2 2>/dev/null || true' EXIT

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

printf 'defaults:\n  baseline_s: 4\n  colour: red\n' >"$WORK/bad.yaml"
rc=0; "$LPS" gate "$FX/lp_gate_ok.ko" --rules "$WORK/bad.yaml" 2>"$WORK/bad.err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/bad.err") == 1 ]] || fail "bad rules: rc=$rc"
grep -q "bad.yaml:3: unknown setting 'colour'" "$WORK/bad.err" || fail "bad rules message: $(cat "$WORK/bad.err")"
[[ -e /sys/module/lp_gate_ok ]] && fail "module loaded despite bad rules"
ok "malformed rules refused before loading: $(cat "$WORK/bad.err")"
