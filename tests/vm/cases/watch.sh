#!/usr/bin/env bash
# The watch daemon under a live workload: it catches a regressing patch loaded
# behind its back and reverts it, writes the audit trail, serves metrics that
# promtool accepts and a real Prometheus scrapes (and the dashboards' queries
# run on), survives kill -9 with its state intact and judges the patch it was
# judging when it died, and exits 0 on SIGTERM with every probe detached.
# vm-timeout: 1200
# Exclusive: the daemon's verdicts compare rolling baselines with observe
# windows; lp_gate_ok must be kept after the restart, so its system
# run-queue check must pass (a loaded host once failed it, x2.1), and the
# revert time after insmod is reported.
# vm-exclusive: yes
. "$(dirname "$0")/lib.sh"
S=$WORK/state
FX=build/fixtures/$LPS_KREL
ADDR=127.0.0.1:9464
ip link set lo up 2>/dev/null || busybox ip link set lo up
# Shorter windows than the defaults, so the case fits the lab's time; no
# watch: yet (the SIGHUP step adds one: a key given twice is refused).
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
patch_state() {	# patch_state PATCH: its state in status.json
	json "$S/status.json" "[p['state'] for p in d['patches'] if p['patch']=='$1'] or ['none']" | tr -d "[]'"
}

start_daemon daemon1.err
wait_for 120 "baseline of 400 calls" baseline_ready
"$LPS" status --state "$S" --json >"$WORK/status.json"
[[ $(json "$WORK/status.json" "d['daemon']['functions'][0]['function']") == version_proc_show ]] ||
	fail "status does not show the daemon's function: $(cat "$WORK/status.json")"
ok "daemon up, baseline ready; status shows it: $("$LPS" status --state "$S" | head -n2 | tail -n1)"

# SIGHUP reloads the rules: a function added to watch: is traced from then on.
printf 'watch:\n  - loadavg_proc_show\n' >>"$WORK/rules.yaml"
kill -HUP "$DAEMON_PID"
hup_done() { file_has "$WORK/daemon1.err" 'now watching 1 more function'; }
wait_for 60 "SIGHUP reload" hup_done
grep -q 'rules reloaded' "$WORK/daemon1.err" || fail "SIGHUP: no reload message"
ok "SIGHUP: rules reloaded, loadavg_proc_show watched"

# A regressing patch, loaded behind the daemon's back.
t0=$(date +%s.%N)
insmod "$FX/lp_gate_slow.ko"
wait_for 120 "verdict on lp_gate_slow" audit_has lp_gate_slow
t1=$(date +%s.%N)
[[ $(audit_field lp_gate_slow "(r['verdict'], r['action'])") == "('fail', 'reverted')" ]] ||
	fail "lp_gate_slow: $(tail -n1 "$S/audit.jsonl")"
[[ $(audit_field lp_gate_slow "[c['result'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]") == fail ]] ||
	fail "lp_gate_slow: latency did not fail"
[[ -e /sys/module/lp_gate_slow ]] && fail "reverted module still loaded"
grep -q 'lpsentinel.*patch lp_gate_slow: fail, reverted' "$WORK/syslog.txt" ||
	fail "no syslog record of the revert: $(tail -c 300 "$WORK/syslog.txt")"
sys_checks=$(audit_field lp_gate_slow "sorted(c['check'] for c in r['system']['checks'])")
[[ $sys_checks == "['kernel_faults', 'lock_contention', 'runqueue_latency', 'transition']" ]] ||
	fail "lp_gate_slow: system checks $sys_checks"
ok "lp_gate_slow reverted and unloaded $(py -c "print(round($t1 - $t0, 1))") s after insmod: $(audit_field lp_gate_slow "[c['detail'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]")"

# Metrics: what a scraper gets, and promtool's lint of it.
sleep 1.5
curl -sf "http://$ADDR/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics rejected /metrics"
grep -qx 'lpsentinel_reverts_total 1' "$WORK/metrics.txt" || fail "lpsentinel_reverts_total is not 1"
grep -qx 'lpsentinel_patch_state{patch="lp_gate_slow",state="reverted"} 1' "$WORK/metrics.txt" ||
	fail "lp_gate_slow not reported reverted in metrics"
calls=$(sed -n 's/^lpsentinel_function_calls_total{function="version_proc_show"} //p' "$WORK/metrics.txt")
((calls > 0)) || fail "no calls in metrics"
grep -qx 'lpsentinel_signals_enabled 1' "$WORK/metrics.txt" || fail "signal probes not attached"
probe_s=$(sed -n 's/^lpsentinel_function_probe_run_seconds_total{function="version_proc_show"} //p' "$WORK/metrics.txt")
py -c "import sys; sys.exit(not $probe_s > 0)" || fail "no BPF run time of the daemon's probes in metrics"
grep -q '^lpsentinel_runqueue_latency_seconds_count [1-9]' "$WORK/metrics.txt" || fail "no run-queue samples"
ok "promtool accepts /metrics ($(grep -vc '^#' "$WORK/metrics.txt") samples, version_proc_show calls $calls)"

# A real Prometheus scrapes the daemon; the dashboards' queries run on what it stored.
cat >"$WORK/prometheus.yml" <<EOC
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: lpsentinel
    static_configs: [ { targets: ["$ADDR"] } ]
EOC
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
	--web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
scraped() {
	curl -sf 'http://127.0.0.1:9090/api/v1/query?query=lpsentinel_reverts_total' 2>/dev/null |
		grep -q '"value":\[[0-9.]*,"1"\]'
}
wait_for 180 "Prometheus scrape of lpsentinel_reverts_total" scraped
sleep 3	# a few more scrapes, so rate() has two points
python3 tests/dashboards/check_dashboards.py "$WORK/metrics.txt" --promtool \
	--prometheus http://127.0.0.1:9090 dashboards/*.json || fail "dashboards do not match the daemon"
kill "$PROM_PID"; wait "$PROM_PID" || true
ok "Prometheus scraped the daemon; every dashboard query parses and runs"

# gate hands its patch to the running daemon: one set of probes, the daemon's verdict.
before=$(bpftool prog show | grep -c 'name lps_' || true)
rc=0
timeout 300 "$LPS" gate "$FX/lp_gate_err.ko" --state "$S" --observe 6 --json >"$WORK/handoff.json" \
	2>"$WORK/handoff.err" || rc=$?
[[ $rc == 3 ]] || { cat "$WORK/handoff.err" "$WORK/handoff.json"; fail "gate via the daemon: exit $rc, want 3"; }
[[ $(json "$WORK/handoff.json" "(d['judged_by'], d['verdict'], d['action'])") == "('watch daemon', 'fail', 'reverted')" ]] ||
	fail "gate via the daemon: $(cat "$WORK/handoff.json")"
[[ $(json "$WORK/handoff.json" "[c['result'] for c in d['functions'][0]['checks'] if c['check']=='errors'][0]") == fail ]] ||
	fail "gate via the daemon: errors did not fail"
after=$(bpftool prog show | grep -c 'name lps_' || true)
[[ $after == "$before" ]] || fail "gate via the daemon changed the BPF programs: $before -> $after"
[[ -e /sys/module/lp_gate_err ]] && fail "gate via the daemon: module still loaded"
audit_has lp_gate_err || fail "handed-over verdict not in the audit trail"
ok "gate handed lp_gate_err to the daemon ($before BPF programs before and after): exit 3, $(json "$WORK/handoff.json" "[c['detail'] for c in d['functions'][0]['checks'] if c['check']=='errors'][0]")"

# A patch on a function nobody watched: traced from its appearance (kprobes,
# the patched code), no baseline to compare latency or errors with, so the
# function's own checks are inconclusive and do not revert it. (The system
# checks still run: a loaded lab host once failed runqueue_latency here, x2.1,
# and that revert is the daemon doing its job, so it is accepted, with the
# reason checked.)
insmod "$FX/lp_gate_uptime.ko"
wait_for 120 "verdict on lp_gate_uptime" audit_has lp_gate_uptime
[[ $(audit_field lp_gate_uptime "(r['functions'][0]['function'], r['functions'][0]['attach'], r['functions'][0]['verdict'])") == "('uptime_proc_show', 'kprobe', 'inconclusive')" ]] ||
	fail "lp_gate_uptime: $(grep lp_gate_uptime "$S/audit.jsonl" | head -c 1500)"
nb=$(audit_field lp_gate_uptime "[(c['result'], c['detail']) for c in r['functions'][0]['checks'] if c['check']=='latency'][0]")
[[ $nb == *inconclusive*"no baseline"* ]] || fail "lp_gate_uptime: latency check $nb"
[[ $(audit_field lp_gate_uptime "[c['detail'] for c in r['functions'][0]['checks'] if c['check']=='errors'][0]") == "no baseline; errors "* ]] ||
	fail "lp_gate_uptime: errors not judged without a baseline"
why=$(audit_field lp_gate_uptime "r['action'] if r['action'] == 'kept' else [c['check'] + ': ' + c['detail'] for c in r['system']['checks'] if c['result'] == 'fail']")
[[ $why == kept || $why == "['"* ]] || fail "lp_gate_uptime: reverted with no failing system check: $why"
[[ -e /sys/kernel/livepatch/lp_gate_uptime ]] && "$LPS" revert lp_gate_uptime --unload >/dev/null
ok "patch on an unwatched function: kprobes from its appearance, its checks inconclusive (latency: $nb); action: $why"

# kill -9 while judging a patch: the restarted daemon judges it from the saved baseline.
insmod "$FX/lp_gate_ok.ko"
# Being judged: in transition or observed.
judging_ok() { file_has "$S/status.json" '"patch":"lp_gate_ok","state":"transition"' ||
	file_has "$S/status.json" '"patch":"lp_gate_ok","state":"observing"'; }
wait_for 120 "lp_gate_ok under judgement" judging_ok
kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" || true
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "lp_gate_ok gone after the daemon was killed"
t0=$SECONDS
start_daemon daemon2.err
# The restart can be slow in the lab: over 120 s once on 6.1 in CI. Not a
# wait in the kernel, as first thought: the kernel stack sampled at 30 s
# (printed below when it happens) showed it returning from a syscall, i.e.
# busy in user space or waiting for the CPU behind the workload. Then the
# judgement itself: transition, observe window, verdict.
( sleep 30; grep -q watching "$WORK/daemon2.err" ||
	{ echo "restart still attaching after 30 s; its kernel stack:"; cat /proc/$DAEMON_PID/stack; } ) 2>&1 &
wait_for 300 "restart after kill -9 while judging" file_has "$WORK/daemon2.err" watching
restart_s=$((SECONDS - t0))
wait_for 120 "verdict on lp_gate_ok after restart" audit_has lp_gate_ok
grep -Eq 'state: [1-9][0-9]* baselines' "$WORK/daemon2.err" || { cat "$WORK/daemon2.err"; fail "restart did not load the baseline"; }
grep -q 'ignored' "$WORK/daemon2.err" && { cat "$WORK/daemon2.err"; fail "state ignored after kill -9"; }
# The restarted daemon traces the now-patched function with kprobes; its saved
# baseline was measured with fentry: latency is not compared (a false revert
# here was seen once), errors and faults are.
[[ $(audit_field lp_gate_ok "r['action']") == kept ]] ||
	fail "lp_gate_ok after restart: $(tail -n1 "$S/audit.jsonl")"
lat=$(audit_field lp_gate_ok "[c['detail'] for c in r['functions'][0]['checks'] if c['check']=='latency'][0]")
[[ $lat == *"not comparable"* ]] || fail "lp_gate_ok after restart: latency compared across attach methods: $lat"
[[ $(audit_field lp_gate_ok "[c['result'] for c in r['functions'][0]['checks'] if c['check']=='errors'][0]") == pass ]] ||
	fail "lp_gate_ok after restart: errors not judged against the saved baseline"
ok "killed with SIGKILL while judging lp_gate_ok; restarted in ${restart_s} s, state intact, kept: $lat"

# SIGKILL at random points; every restart finds a sound state file.
# (A restart took over a minute on 6.1 in the lab; see above.)
slowest=0
for n in 1 2 3; do
	sleep "0.$((RANDOM % 9 + 1))"
	kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" || true
	t0=$SECONDS
	start_daemon "daemon-k$n.err"
	wait_for 300 "restart $n" file_has "$WORK/daemon-k$n.err" watching
	((SECONDS - t0 > slowest)) && slowest=$((SECONDS - t0))
	grep -q 'ignored' "$WORK/daemon-k$n.err" && { cat "$WORK/daemon-k$n.err"; fail "state ignored after kill -9 ($n)"; }
done
ok "3 more kill -9 at random points: state loaded every time (slowest restart ${slowest} s)"

# SIGTERM: clean exit 0, every probe detached; the kept patch stays.
sleep 2
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
[[ $rc == 0 ]] || { cat "$WORK/daemon-k3.err"; fail "SIGTERM: exit $rc"; }
left=$(bpftool prog show | grep -c 'name lps_' || true)
[[ $left == 0 ]] || fail "$left lpsentinel BPF programs left after SIGTERM"
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "kept patch gone after SIGTERM"
"$LPS" revert lp_gate_ok --unload >/dev/null
kill "$SYSLOG_PID" || true
ok "SIGTERM: exit 0, no BPF program left; audit trail has $(wc -l <"$S/audit.jsonl") decisions"
