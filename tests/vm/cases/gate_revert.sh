#!/usr/bin/env bash
# gate reverts and unloads what regresses, with a workload running
# throughout: a slow patch (about 50 us per call on version_proc_show), a
# failing one (every call an error), and tens of microseconds on
# uptime_proc_show (another function and another size of cost, so that the
# defaults are not tuned to one case; see gate_sizes.sh for the small cost
# that is kept).
# Not exclusive: each regression is many times the thresholds (x5 to x30 and
# +70 us or more against x1.5 and +20 us; 100 % errors against 0.1 %), so a
# second guest on the host cannot hide it. The verdicts that must not fail
# are in gate.sh and gate_sizes.sh, which run alone.
# Each gate turns off the timing checks other than the one it proves
# (rules_without in lib.sh says why).
# On sid's kernel too: the product's main claim, a regression reverted and
# the module unloaded (docs/lab.md).
# vm-sid: yes
. "$(dirname "$0")/lib.sh"
start_gate_workload

GATE_EXTRA="--rules $(rules_without runqueue_latency)" gate_case lp_gate_slow 3
[[ $(verdict lp_gate_slow) == "('fail', 'reverted')" ]] || fail "lp_gate_slow: $(verdict lp_gate_slow)"
[[ $(check_of lp_gate_slow version_proc_show latency) == fail ]] || check_failed lp_gate_slow "slow patch: latency did not fail"
[[ -e /sys/module/lp_gate_slow ]] && fail "reverted module still loaded"
looks=$(json "$WORK/lp_gate_slow.json" "d['looks']")
ok "slow patch reverted after $looks look(s): $(check_detail lp_gate_slow latency)"

GATE_EXTRA="--rules $(rules_without latency runqueue_latency)" gate_case lp_gate_err 3
[[ $(check_of lp_gate_err version_proc_show errors) == fail ]] || check_failed lp_gate_err "failing patch: errors did not fail"
[[ -e /sys/module/lp_gate_err ]] && fail "reverted module still loaded"
ok "failing patch reverted: $(check_detail lp_gate_err errors)"

GATE_EXTRA="--rules $(rules_without runqueue_latency)" gate_case lp_gate_uptime 3
[[ $(check_of lp_gate_uptime uptime_proc_show latency) == fail ]] || check_failed lp_gate_uptime "uptime patch: latency did not fail"
[[ -e /sys/module/lp_gate_uptime ]] && fail "reverted module still loaded"
ok "tens of microseconds on uptime_proc_show reverted: $(check_detail lp_gate_uptime latency)"
