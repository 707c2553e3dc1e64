#!/usr/bin/env bash
# The watch daemon SIGKILLed at each step of a judgement, then restarted
# (tests/faults/lps_faults.c kills it right after the revert's enabled=0):
# - in lp_gate_ok's transition: the restart judges it again;
# - one kill while lp_gate_mild is observed and right after enabled=0 for
#   lp_gate_slow: the restart finishes the revert (module unloaded) and
#   judges lp_gate_mild again; each said in the audit trail.
# vm-timeout: 900
# Not exclusive: no verdict asserted depends on timing (lp_gate_slow is many
# times its thresholds; the others only need a record).
# One lab kernel (docs/lab.md, "Which kernels"): the faults are in
# lpsentinel's own system calls, the handling the same on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
. tests/faults/watch_lib.sh
start_gate_workload

start_daemon daemon1.err
wait_for 180 "baselines of 400 calls" baselines_ready
ok "daemon up under the shim, baselines ready"

# 1. SIGKILL with lp_gate_ok in its transition: the restart judges it again.
n=$(records lp_gate_ok)
insmod "$FX/lp_gate_ok.ko"
wait_for 60 "lp_gate_ok seen" state_is lp_gate_ok transition observing
restart daemon2.err
grep -q 'patch lp_gate_ok was loaded before' "$DAEMON_LOG" && fail "restart: lp_gate_ok taken as loaded before the daemon"
wait_for 120 "verdict on lp_gate_ok after the restart" more_records lp_gate_ok "$n"
ok "SIGKILL in lp_gate_ok's transition; restarted in $RESTART_S s; audit: $(audit_field lp_gate_ok "(r['verdict'], r['action'], r['reason'])")"
clean lp_gate_ok

# 2. One SIGKILL right after writing enabled=0 to revert lp_gate_slow, with
# lp_gate_mild observed meanwhile: the restart finishes the revert and judges
# lp_gate_mild again. (A loaded host can make a system check revert
# lp_gate_mild first: then its revert is the one cut, and the restart finishes
# it and judges lp_gate_slow again; both ways are checked alike.)
: >"$FLOG"
touch "$ARM.kill"
ns=$(records lp_gate_slow) nm=$(records lp_gate_mild)
insmod "$FX/lp_gate_mild.ko"
wait_for 60 "lp_gate_mild's transition" settled lp_gate_mild
insmod "$FX/lp_gate_slow.ko"
end=$((SECONDS + 120))
while kill -0 "$DAEMON_PID" 2>/dev/null; do ((SECONDS < end)) || fail "not killed by enabled=0"; nap 0.2; done
rm -f "$ARM.kill"
file_has "$FLOG" "SIGKILL after sysfs_write" || fail "kill after enabled=0: not injected ($(cat "$FLOG"))"
at_kill=$(json "$S/status.json" "', '.join(p['patch'] + ' ' + p['state'] for p in d['patches'] if p['patch'] in ('lp_gate_mild', 'lp_gate_slow'))")
lp() { [[ -e /sys/kernel/livepatch/$1 ]] && echo "livepatch enabled=$(cat /sys/kernel/livepatch/$1/enabled)" || echo "no livepatch"; }
ok "killed right after an enabled=0 (the daemon's states then: $at_kill); lp_gate_slow: $(lp lp_gate_slow), lp_gate_mild: $(lp lp_gate_mild)"
restart daemon3.err
wait_for 120 "lp_gate_slow finished after the restart" more_records lp_gate_slow "$ns"
wait_for 120 "verdict on lp_gate_mild after the restart" more_records lp_gate_mild "$nm"
[[ $(audit_field lp_gate_slow "r['action']") == reverted ]] ||
	fail "lp_gate_slow after the restart: $(audit_field lp_gate_slow "(r['action'], r['reason'])")"
gone lp_gate_slow || fail "lp_gate_slow still loaded after the restart"
ok "restarted in $RESTART_S s; audit lp_gate_slow: $(audit_field lp_gate_slow "(r['event'], r['action'], r['reason'])")"
ok "audit lp_gate_mild: $(audit_field lp_gate_mild "(r['verdict'], r['action'], r['reason'])")"
clean lp_gate_mild
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
[[ $rc == 0 ]] || fail "SIGTERM: exit $rc"
ok "SIGTERM: exit 0; the audit trail has $(wc -l <"$S/audit.jsonl") records"
