#!/usr/bin/env bash
# gate's verdicts, with a workload running throughout: an equivalent patch is
# kept; a slow one and a failing one are reverted and unloaded; of two
# functions, exactly the regressing one is blamed.
. "$(dirname "$0")/lib.sh"
start_gate_workload

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
ok "slow patch reverted after $looks look(s): $(check_detail lp_gate_slow latency)"

gate_case lp_gate_err 3
[[ $(check_of lp_gate_err version_proc_show errors) == fail ]] || fail "failing patch: errors did not fail"
[[ -e /sys/module/lp_gate_err ]] && fail "reverted module still loaded"
ok "failing patch reverted: $(check_detail lp_gate_err errors)"

gate_case lp_gate_two 3
[[ $(check_of lp_gate_two loadavg_proc_show latency) == fail ]] || fail "two: loadavg not blamed"
[[ $(check_of lp_gate_two version_proc_show latency) != fail ]] || fail "two: version blamed too"
ok "two-function patch: loadavg_proc_show blamed, version_proc_show $(check_of lp_gate_two version_proc_show latency)"

