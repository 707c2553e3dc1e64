#!/usr/bin/env bash
# gate on another function and another size of cost, so the defaults are not
# tuned to one case: about 2 us per call on loadavg_proc_show is kept. (30 to
# 70 us on uptime_proc_show must be reverted: gate_revert.sh.)
# Exclusive: a cost of about 2 us per call must be kept, which is a latency
# ratio between two windows plus the system run-queue check (see gate.sh):
# host load that differs between the windows (a second guest) moves both.
# vm-exclusive: yes
# One kernel (6.12): the judge's defaults on another size of cost are the
# same code on every kernel; gate.sh proves the keep verdicts on 6.1.
# vm-kernels: 6.12.*
. "$(dirname "$0")/lib.sh"
start_gate_workload

gate_keep lp_gate_mild
[[ $(verdict lp_gate_mild) == "('pass', 'kept')" ]] || fail "lp_gate_mild: $(verdict lp_gate_mild)"
"$LPS" revert lp_gate_mild --unload >/dev/null
ok "small cost kept: $(check_detail lp_gate_mild latency)"
