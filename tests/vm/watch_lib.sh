# Helpers for the watch daemon's VM cases (watch.sh, watch_ops.sh), sourced
# after tests/vm/cases/lib.sh: a daemon on version_proc_show with short
# windows, a syslog of its own, and the state it writes read back.
S=$WORK/state
FX=build/fixtures/$LPS_KREL
ADDR=127.0.0.1:9464
ip link set lo up 2>/dev/null || busybox ip link set lo up
# Shorter windows than the defaults, so the cases fit the lab's time; no
# watch: yet (watch_ops.sh's SIGHUP step adds one: a key given twice is refused).
sed -e 's/^  baseline_s: .*/  baseline_s: 6/' -e 's/^  observe_s: .*/  observe_s: 8/' \
	-e '/^watch: \[\]$/d' rules/default.yaml >"$WORK/rules.yaml"
start_gate_workload
# A syslog of our own on /dev/log (the guest runs none): the audit trail goes there too.
python3 -c 'import socket,sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True: out.write(s.recv(65536) + b"\n")' "$WORK/syslog.txt" &
SYSLOG_PID=$!

DAEMON_PID=
start_daemon() {	# start_daemon LOG
	"$LPS" watch --state "$S" --listen "$ADDR" --rules "$WORK/rules.yaml" \
		--function version_proc_show 2>"$WORK/$1" &
	DAEMON_PID=$!
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until SECONDS passed
# (builtins where it can: every exec competes with the daemon for the guest's CPUs)
wait_for() {
	local t=$1 end=$((SECONDS + $1)) what=$2; shift 2
	while ((SECONDS < end)); do
		"$@" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 5 "$WORK"/daemon*.err; fail "daemon died waiting for $what"; }
		nap 0.2
	done
	tail -n 5 "$WORK"/daemon*.err; fail "no $what within $t s"
}
baseline_ready() {
	[[ -s $S/status.json ]] && [[ $(json "$S/status.json" \
		"[f['baseline_calls'] for f in d['functions'] if f['function']=='version_proc_show'][0] >= 400") == *True* ]]
}
audit_has() {	# audit_has PATCH: a verdict record for PATCH exists
	[[ -s $S/audit.jsonl ]] && file_has "$S/audit.jsonl" "\"patch\":\"$1\""
}
audit_field() {	# audit_field PATCH EXPR (python over the record d)
	py -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("patch") == sys.argv[2]: r = d
print(eval(sys.argv[3]))' "$S/audit.jsonl" "$1" "$2"
}
# The daemon started, its baseline ready and shown by status.
start_watching() {
	start_daemon daemon1.err
	wait_for 120 "baseline of 400 calls" baseline_ready
	"$LPS" status --state "$S" --json >"$WORK/status.json"
	[[ $(json "$WORK/status.json" "d['daemon']['functions'][0]['function']") == version_proc_show ]] ||
		fail "status does not show the daemon's function: $(cat "$WORK/status.json")"
	ok "daemon up, baseline ready; status shows it: $("$LPS" status --state "$S" | head -n2 | tail -n1)"
}
# SIGTERM: clean exit 0, every probe detached; a kept patch stays. (LOG: the daemon's stderr)
stop_daemon_clean() {	# stop_daemon_clean LOG
	sleep 2
	kill -TERM "$DAEMON_PID"
	local rc=0 left
	wait "$DAEMON_PID" || rc=$?
	[[ $rc == 0 ]] || { cat "$WORK/$1"; fail "SIGTERM: exit $rc"; }
	left=$(bpftool prog show | grep -c 'name lps_' || true)
	[[ $left == 0 ]] || fail "$left lpsentinel BPF programs left after SIGTERM"
	kill "$SYSLOG_PID" || true
}
