#!/usr/bin/env bash
# gate on other functions and other sizes of cost, so the defaults are not
# tuned to one case: about 2 us per call on loadavg_proc_show is kept, 30 to
# 70 us on uptime_proc_show is reverted.
. "$(dirname "$0")/lib.sh"
start_gate_workload

gate_case lp_gate_mild 0
[[ $(verdict lp_gate_mild) == "('pass', 'kept')" ]] || fail "lp_gate_mild: $(verdict lp_gate_mild)"
"$LPS" revert lp_gate_mild --unload >/dev/null
ok "small cost kept: $(check_detail lp_gate_mild latency)"

gate_case lp_gate_uptime 3
[[ $(check_of lp_gate_uptime uptime_proc_show latency) == fail ]] || fail "uptime patch: latency did not fail"
[[ -e /sys/module/lp_gate_uptime ]] && fail "reverted module still loaded"
ok "tens of microseconds on uptime_proc_show reverted: $(check_detail lp_gate_uptime latency)"

