#!/usr/bin/env bash
# The watch daemon under injected faults (tests/faults/lps_faults.c,
# LD_PRELOAD, each fault armed by a file when wanted):
# - the BPF maps (ENOMEM) or programs (EAGAIN) of a new patch's functions
#   cannot be created: the daemon lives on, the audit trail names the
#   functions it could not probe and the error, the rules' inconclusive policy
#   decides (keep), lpsentinel_probe_failures_total counts them;
# - EIO on writing 0 to 'enabled' while reverting lp_gate_slow: the audit
#   trail says the revert failed and why, lpsentinel_revert_failures_total
#   counts it, the daemon lives on.
# SIGKILLs at each step of a judgement are in faults_watch_kill.sh.
# Not exclusive: lp_gate_slow is many times its thresholds; the unprobed
# patch may be kept or reverted by a system check, its record is what is checked.
# One lab kernel (docs/lab.md, "Which kernels"): the faults are in
# lpsentinel's own system calls, the handling the same on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
. tests/faults/watch_lib.sh
start_gate_workload

start_daemon daemon1.err
wait_for 180 "baselines of 400 calls" baselines_ready
ok "daemon up under the shim, baselines ready"

# 1. ENOMEM creating the maps for lp_gate_uptime's unwatched function.
touch "$ARM.nomem"
insmod "$FX/lp_gate_uptime.ko"
wait_for 120 "verdict on lp_gate_uptime" more_records lp_gate_uptime 0
rm -f "$ARM.nomem"
file_has "$FLOG" "(name 'hists'): ENOMEM" || fail "ENOMEM: not injected"
un=$(unprobed lp_gate_uptime)
[[ $un == "uptime_proc_show: "*"Cannot allocate memory"*"map 'hists'"* ]] ||
	fail "ENOMEM: unprobed not in the audit trail: $(grep lp_gate_uptime "$S/audit.jsonl" | head -c 1500)"
act=$(audit_field lp_gate_uptime "r['verdict'] + ', ' + r['action'] + ': ' + r['reason']")
# (A system check may fail under a loaded host and revert it: the daemon doing its job.)
[[ $act == "inconclusive, kept: 1 function could not be probed ("*"inconclusive, and the rules say keep" ||
	$act == *", reverted: "* ]] || fail "ENOMEM: $act"
grep -q 'lp_gate_uptime: cannot probe 1 function: uptime_proc_show' "$DAEMON_LOG" || fail "ENOMEM: nothing said on stderr"
[[ $(metric lpsentinel_probe_failures_total) == 1 ]] || fail "ENOMEM: probe failures $(metric lpsentinel_probe_failures_total)"
ok "ENOMEM on the maps of uptime_proc_show: audit: unprobed $un; $act"
clean lp_gate_uptime

# 1b. EIO on writing 0 to 'enabled' while reverting lp_gate_slow.
touch "$ARM.eio"
insmod "$FX/lp_gate_slow.ko"
wait_for 120 "verdict on lp_gate_slow" more_records lp_gate_slow 0
rm -f "$ARM.eio"
file_has "$FLOG" "write(0) to .../enabled call 1: EIO" || fail "EIO: not injected: $(cat "$FLOG")"
[[ $(audit_field lp_gate_slow "(r['verdict'], r['action'])") == "('fail', 'failed')" ]] ||
	fail "EIO: $(audit_field lp_gate_slow "(r['verdict'], r['action'], r['reason'])")"
reason=$(audit_field lp_gate_slow "r['reason']")
[[ $reason == *"revert failed: lp_gate_slow: the kernel refused to disable it (writing 0 to enabled: Input/output error): it is still enabled"* ]] ||
	fail "EIO: reason $reason"
[[ $(cat /sys/kernel/livepatch/lp_gate_slow/enabled) == 1 ]] || fail "EIO: lp_gate_slow not enabled"
[[ $(metric lpsentinel_revert_failures_total) == 1 ]] || fail "EIO: revert failures $(metric lpsentinel_revert_failures_total)"
state_is lp_gate_slow failed || fail "EIO: status.json does not say failed"
ok "EIO on enabled=0: audit: action failed, reason: $reason; lpsentinel_revert_failures_total 1"
clean lp_gate_slow

# 2. EAGAIN loading the programs for the same function, a second time.
touch "$ARM.again"
n=$(records lp_gate_uptime)
insmod "$FX/lp_gate_uptime.ko"
wait_for 120 "second verdict on lp_gate_uptime" more_records lp_gate_uptime "$n"
rm -f "$ARM.again"
file_has "$FLOG" "EAGAIN" || fail "EAGAIN: not injected"
un=$(unprobed lp_gate_uptime)
[[ $un == "uptime_proc_show: "*"Resource temporarily unavailable"*"lps_"* ]] || fail "EAGAIN: unprobed $un"
[[ $(metric lpsentinel_probe_failures_total) == 2 ]] || fail "EAGAIN: probe failures $(metric lpsentinel_probe_failures_total)"
ok "EAGAIN on the programs of uptime_proc_show: audit: unprobed $un; $(audit_field lp_gate_uptime "r['action'] + ': ' + r['reason']")"
clean lp_gate_uptime
kill -0 "$DAEMON_PID" || fail "the daemon died"

kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
[[ $rc == 0 ]] || fail "SIGTERM: exit $rc"
ok "SIGTERM: exit 0; the audit trail has $(wc -l <"$S/audit.jsonl") records"
