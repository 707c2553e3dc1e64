#!/usr/bin/env bash
# The watch daemon under injected faults (tests/faults/lps_faults.c,
# LD_PRELOAD, each fault armed by a file when wanted):
# - the BPF maps (ENOMEM) or programs (EAGAIN) of a new patch's functions
#   cannot be created: the daemon lives on, the audit trail names the
#   functions it could not probe and the error, the rules' inconclusive policy
#   decides (keep), lpsentinel_probe_failures_total counts them;
# - EIO on writing 0 to 'enabled' while reverting lp_gate_slow: the audit
#   trail says the revert failed and why, lpsentinel_revert_failures_total
#   counts it, the daemon lives on;
# - SIGKILL while a patch is in its transition, then (one kill) while one is
#   observed and another is reverted right after enabled=0: each restarted
#   daemon judges again what was being judged, and finishes the revert it
#   finds half-done (module unloaded), each said in the audit trail.
# vm-timeout: 900
# Not exclusive: every verdict asserted is many times its threshold
# (lp_gate_slow) or does not depend on the verdict (kept or reverted, the
# record is what is checked).
. "$(dirname "$0")/lib.sh"
S=$WORK/state
FX=build/fixtures/$LPS_KREL
ADDR=127.0.0.1:9464
SHIM=$PWD/build/lps_faults.so
[[ -e $SHIM ]] || fail "$SHIM is missing (make build/lps_faults.so)"
ARM=$WORK/arm
FLOG=$WORK/faults.log
ip link set lo up 2>/dev/null || busybox ip link set lo up
sed -e 's/^  baseline_s: .*/  baseline_s: 6/' -e 's/^  observe_s: .*/  observe_s: 6/' \
	rules/default.yaml >"$WORK/rules.yaml"
start_gate_workload

DAEMON_PID=
start_daemon() {	# start_daemon LOG: the daemon with every fault, none armed
	LD_PRELOAD=$SHIM LPS_FAULT_ARM=$ARM LPS_FAULT_LOG=$FLOG \
	LPS_FAULT='nomem=bpf_map_create@hists:ENOMEM:1+,again=bpf_prog_load@lps_:EAGAIN:1+,eio=sysfs_write:/enabled:EIO:1,kill=kill_after:sysfs_write:/enabled:0' \
		"$LPS" watch --state "$S" --listen "$ADDR" --rules "$WORK/rules.yaml" \
		--function version_proc_show --function loadavg_proc_show 2>"$WORK/$1" &
	DAEMON_PID=$!
	DAEMON_LOG=$WORK/$1
}
wait_for() {	# wait_for SECONDS DESCRIPTION COMMAND...
	local end=$((SECONDS + $1)) what=$2; shift 2
	while ((SECONDS < end)); do
		"$@" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 5 "$DAEMON_LOG"; fail "daemon died waiting for $what"; }
		nap 0.2
	done
	tail -n 5 "$DAEMON_LOG"; fail "no $what within $1 s"
}
baselines_ready() {
	[[ -s $S/status.json ]] && [[ $(json "$S/status.json" \
		"all(f['baseline_calls'] >= 400 for f in d['functions'] if f['function'] in ('version_proc_show', 'loadavg_proc_show'))") == True ]]
}
records() {	# records PATCH: how many audit records name PATCH
	[[ -s $S/audit.jsonl ]] || { echo 0; return; }
	local n=0 l
	while IFS= read -r l; do [[ $l == *"\"patch\":\"$1\""* ]] && n=$((n + 1)); done <"$S/audit.jsonl"
	echo "$n"
}
more_records() { (($(records "$1") > $2)); }	# more_records PATCH N
audit_field() {	# audit_field PATCH EXPR: over the last record of PATCH
	py -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("patch") == sys.argv[2]: r = d
print(eval(sys.argv[3]))' "$S/audit.jsonl" "$1" "$2"
}
metric() { curl -sf "http://$ADDR/metrics" | sed -n "s/^$1 //p"; }
state_is() {	# state_is PATCH STATE...: its state in status.json is one of them
	local s
	for s in "${@:2}"; do file_has "$S/status.json" "\"patch\":\"$1\",\"state\":\"$s\"" && return 0; done
	return 1
}
gone() { [[ ! -e /sys/module/$1 ]]; }
clean() { [[ -e /sys/module/$1 ]] && "$LPS" revert "$1" --unload >/dev/null; wait_for 30 "$1 unloaded" gone "$1"; }
restart() {	# restart LOG: kill -9, start again, wait until it watches
	kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" || true
	local t0=$SECONDS
	start_daemon "$1"
	wait_for 240 "restart ($1)" file_has "$DAEMON_LOG" watching
	grep -q 'ignored' "$DAEMON_LOG" && { cat "$DAEMON_LOG"; fail "$1: state ignored after kill -9"; }
	RESTART_S=$((SECONDS - t0))
}

start_daemon daemon1.err
wait_for 180 "baselines of 400 calls" baselines_ready
ok "daemon up under the shim, baselines ready"

# 1. ENOMEM creating the maps for lp_gate_uptime's unwatched function, and, at
# the same time, EIO on lp_gate_slow's revert.
touch "$ARM.nomem" "$ARM.eio"
insmod "$FX/lp_gate_uptime.ko"
insmod "$FX/lp_gate_slow.ko"
wait_for 120 "verdict on lp_gate_uptime" more_records lp_gate_uptime 0
wait_for 120 "verdict on lp_gate_slow" more_records lp_gate_slow 0
rm -f "$ARM.nomem" "$ARM.eio"
file_has "$FLOG" "(name 'hists'): ENOMEM" || fail "ENOMEM: not injected"
unprobed() {	# unprobed PATCH: "FUNCTION: ERROR" of each function it could not probe
	audit_field "$1" "'; '.join(u['function'] + ': ' + u['error'] for u in r.get('unprobed', []))"
}
un=$(unprobed lp_gate_uptime)
[[ $un == "uptime_proc_show: "*"Cannot allocate memory"*"map 'hists'"* ]] ||
	fail "ENOMEM: unprobed not in the audit trail: $(grep lp_gate_uptime "$S/audit.jsonl" | head -c 1500)"
act=$(audit_field lp_gate_uptime "r['verdict'] + ', ' + r['action'] + ': ' + r['reason']")
# (A system check may fail under a loaded host and revert it: the daemon doing its job.)
[[ $act == "inconclusive, kept: 1 function could not be probed ("*"inconclusive, and the rules say keep" ||
	$act == *", reverted: "* ]] || fail "ENOMEM: $act"
grep -q 'lp_gate_uptime: cannot probe 1 function: uptime_proc_show' "$DAEMON_LOG" || fail "ENOMEM: nothing said on stderr"
ok "ENOMEM on the maps of uptime_proc_show: audit: unprobed $un; $act"
file_has "$FLOG" "write(0) to .../enabled call 1: EIO" || fail "EIO: not injected: $(cat "$FLOG")"
[[ $(audit_field lp_gate_slow "(r['verdict'], r['action'])") == "('fail', 'failed')" ]] ||
	fail "EIO: $(audit_field lp_gate_slow "(r['verdict'], r['action'], r['reason'])")"
reason=$(audit_field lp_gate_slow "r['reason']")
[[ $reason == *"revert failed: lp_gate_slow: the kernel refused to disable it (writing 0 to enabled: Input/output error): it is still enabled"* ]] ||
	fail "EIO: reason $reason"
[[ $(cat /sys/kernel/livepatch/lp_gate_slow/enabled) == 1 ]] || fail "EIO: lp_gate_slow not enabled"
[[ $(metric lpsentinel_revert_failures_total) == 1 ]] || fail "EIO: revert failures $(metric lpsentinel_revert_failures_total)"
[[ $(metric lpsentinel_probe_failures_total) == 1 ]] || fail "ENOMEM: probe failures $(metric lpsentinel_probe_failures_total)"
state_is lp_gate_slow failed || fail "EIO: status.json does not say failed"
ok "EIO on enabled=0: audit: action failed, reason: $reason; lpsentinel_revert_failures_total 1"
clean lp_gate_uptime
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

# 3. SIGKILL with lp_gate_ok in its transition: the restart judges it again.
n=$(records lp_gate_ok)
insmod "$FX/lp_gate_ok.ko"
wait_for 60 "lp_gate_ok seen" state_is lp_gate_ok transition observing
restart daemon2.err
grep -q 'patch lp_gate_ok was loaded before' "$DAEMON_LOG" && fail "restart: lp_gate_ok taken as loaded before the daemon"
wait_for 120 "verdict on lp_gate_ok after the restart" more_records lp_gate_ok "$n"
ok "SIGKILL in lp_gate_ok's transition; restarted in $RESTART_S s; audit: $(audit_field lp_gate_ok "(r['verdict'], r['action'], r['reason'])")"
clean lp_gate_ok

# 4. One SIGKILL right after writing enabled=0 to revert lp_gate_slow, with
# lp_gate_mild observed meanwhile: the restart finishes the revert and judges
# lp_gate_mild again.
: >"$FLOG"
touch "$ARM.kill"
ns=$(records lp_gate_slow) nm=$(records lp_gate_mild)
insmod "$FX/lp_gate_mild.ko"
insmod "$FX/lp_gate_slow.ko"
end=$((SECONDS + 120))
while kill -0 "$DAEMON_PID" 2>/dev/null; do ((SECONDS < end)) || fail "not killed by enabled=0"; nap 0.2; done
rm -f "$ARM.kill"
file_has "$FLOG" "SIGKILL after sysfs_write" || fail "kill after enabled=0: not injected ($(cat "$FLOG"))"
mild=$(json "$S/status.json" "[p['state'] for p in d['patches'] if p['patch']=='lp_gate_mild']")
ok "killed right after enabled=0 for lp_gate_slow; lp_gate_mild was $mild; lp_gate_slow: $(
	[[ -e /sys/kernel/livepatch/lp_gate_slow ]] && echo "livepatch enabled=$(cat /sys/kernel/livepatch/lp_gate_slow/enabled)" ||
	echo "no livepatch"), module $([[ -e /sys/module/lp_gate_slow ]] && echo loaded || echo gone)"
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
