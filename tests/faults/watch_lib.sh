# Helpers for the watch daemon's fault-injection VM cases (faults_watch*.sh),
# sourced after tests/vm/cases/lib.sh: the daemon under the LD_PRELOAD shim
# (tests/faults/lps_faults.c) with every fault it is tested with, each armed by
# its file $ARM.LABEL when wanted, and the audit trail read back.
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
# settled PATCH: its transition is over (the kernel refuses a second patch, EBUSY, until then)
settled() { local v=; [[ -e /sys/kernel/livepatch/$1/transition ]] && read -r v </sys/kernel/livepatch/$1/transition && [[ $v == 0 ]]; }
clean() { [[ -e /sys/module/$1 ]] && "$LPS" revert "$1" --unload >/dev/null; wait_for 30 "$1 unloaded" gone "$1"; }
restart() {	# restart LOG: kill -9, start again, wait until it watches
	kill -9 "$DAEMON_PID" 2>/dev/null || true	# (the shim may have killed it already)
	wait "$DAEMON_PID" 2>/dev/null || true	# (no "Killed" line from bash)
	local t0=$SECONDS
	start_daemon "$1"
	wait_for 240 "restart ($1)" file_has "$DAEMON_LOG" watching
	grep -q 'ignored' "$DAEMON_LOG" && { cat "$DAEMON_LOG"; fail "$1: state ignored after kill -9"; }
	RESTART_S=$((SECONDS - t0))
}

unprobed() {	# unprobed PATCH: "FUNCTION: ERROR" of each function it could not probe
	audit_field "$1" "'; '.join(u['function'] + ': ' + u['error'] for u in r.get('unprobed', []))"
}
