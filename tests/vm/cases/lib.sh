# Helpers for VM test cases. Sourced by tests/vm/cases/*.sh, which run inside a
# guest (tests/vm/run-in-vm.sh) with the repository root as cwd.
set -euo pipefail

LPS=${LPS:-./lpsentinel}
LPLOAD=${LPLOAD:-build/lpload}
WORK=$(mktemp -d /tmp/lpstest.XXXXXX)
TRACE_PID=
# A fifo nobody writes: `read -t` on it is a sleep without exec.
mkfifo "$WORK/nap" "$WORK/py.req" "$WORK/py.resp"

fail() { echo "FAIL: $*"; exit 1; }
# Does the guest's kernel have kprobe session programs (Linux 6.10+)?
has_ksession() {
	local v maj min
	read -r v </proc/sys/kernel/osrelease
	maj=${v%%.*}; v=${v#*.}; min=${v%%[.-]*}
	# 6.10 to 6.19: 7.0 gave the session kfuncs an argument (ksession.c)
	((maj == 6 && min >= 10))
}
# Tracing session programs (fsession): Linux 7.0+.
has_fsession() {
	local maj
	maj=$(cut -d. -f1 </proc/sys/kernel/osrelease)
	((maj >= 7))
}
ok() { echo "ok: $*"; }

# py -c CODE ARG... | py - ARG... <<SCRIPT: what python3 -c / python3 - would
# do (stdout, stderr, exit status), run by one python that serves the whole
# case (tests/vm/pyserve.py): starting python3 takes seconds in a guest whose
# CPUs the workload keeps busy. One call at a time. The server is up (its own
# file opens done) before the case goes on, so it adds nothing to what a
# traced window counts.
python3 tests/vm/pyserve.py "$WORK/py.req" "$WORK/py.resp" </dev/null >"$WORK/pyserve.log" 2>&1 &
PY_PID=$!
IFS= read -r -d '' _ <"$WORK/py.resp" || fail "tests/vm/pyserve.py did not start"
py() {
	local code a0 rc out err
	case ${1:-} in
	-c) code=$2 a0=-c; shift 2 ;;
	-) IFS= read -r -d '' code || true; a0=-; shift ;;
	*) echo "py: usage: py -c CODE ARG... | py - ARG... <<SCRIPT" >&2; return 2 ;;
	esac
	kill -0 "$PY_PID" 2>/dev/null || { cat "$WORK/pyserve.log" >&2; echo "py: tests/vm/pyserve.py is gone" >&2; return 1; }
	printf '%s\0' "$code" "$a0" "$@" >"$WORK/py.req"
	{ IFS= read -r -d '' rc && IFS= read -r -d '' out && IFS= read -r -d '' err; } <"$WORK/py.resp" ||
		{ cat "$WORK/pyserve.log" >&2; echo "py: no answer from tests/vm/pyserve.py" >&2; return 1; }
	printf '%s' "$out"
	printf '%s' "$err" >&2
	return "$rc"
}
exec {NAP_FD}<>"$WORK/nap"
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }	# nap SECONDS: sleep, builtin only
# file_has FILE TEXT: FILE exists and contains TEXT (grep -qF without an exec,
# for polling loops in a guest whose CPUs are busy).
file_has() {
	local s=
	[[ -e $1 ]] || return 1
	IFS= read -r -d '' s <"$1" || true
	[[ $s == *"$2"* ]]
}

# start_trace NAME ARGS...: runs `lpsentinel trace ARGS` in the background with
# stdout in $WORK/NAME.out and stderr in $WORK/NAME.err, and returns once its
# probes are attached (it prints "Tracing" on stderr) or fails if it exits.
start_trace() {
	local name=$1 line; shift
	TRACE_NAME=$name
	"$LPS" trace "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	TRACE_PID=$!
	# Bash builtins only from here on: an exec would make the dynamic loader
	# probe library paths that do not exist, failed opens that the error
	# tests (do_filp_open) would count.
	for ((i = 0; i < 600; i++)); do
		[[ -s $WORK/$name.err ]] && IFS= read -r line <"$WORK/$name.err" && [[ $line == Tracing* ]] && return 0
		kill -0 "$TRACE_PID" 2>/dev/null || { cat "$WORK/$name.err"; fail "trace $* exited before attaching"; }
		nap 0.2
	done
	fail "trace $* did not attach within 120 s"
}

# stop_trace: SIGINT, as a user's Ctrl-C; trace prints its totals and exits 0.
stop_trace() {
	local rc=0
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID" || rc=$?
	[[ $rc == 0 ]] || { cat "$WORK/$TRACE_NAME.err"; fail "trace exited with $rc after SIGINT"; }
}

# stop_load PID: stops a background lpload started with a long --seconds, and
# its workers, without waiting for its totals (SIGTERM to the parent alone
# ends the run and prints them: trace_budget.sh).
stop_load() {
	pkill -P "$1" 2>/dev/null || true
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# jq-like access without jq: json FILE 'python expression over d'
json() {
	py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# fn_field FILE FUNC FIELD: one field of one function in trace --json output
fn_field() {
	json "$1" "[f for f in d['functions'] if f['function']=='$2'][0]['$3']"
}

# lpload_ops OUTPUT: the ops=N count lpload printed
lpload_field() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" "$1"; }

# Gate cases: the workload they all gate under, and how they read the result.
# The workload sleeps 50 us between reads: with tasks that never sleep and an
# error path that never blocks, RCU-tasks grace periods (which the trampoline
# and the livepatch transition wait for) stalled the 6.12 guest for minutes.
# start_gate_workload [N]: N readers of /proc/version (default 2), one each of
# /proc/loadavg and /proc/uptime.
LPLOAD_PIDS=()
start_gate_workload() {
	local f files=()
	for ((f = 0; f < ${1:-2}; f++)); do files+=(version); done
	for f in "${files[@]}" loadavg uptime; do
		"$LPLOAD" --file /proc/$f --procs 1 --seconds 900 --pause-us 50 >/dev/null &
		LPLOAD_PIDS+=($!)
	done
	trap "pkill -x lpload || true" EXIT
}

# gate_run NAME: gates build/fixtures/<kernel>/NAME.ko, JSON in $WORK/NAME.json
# (windows GATE_BASELINE and GATE_OBSERVE, options GATE_EXTRA if set);
# sets GATE_RC.
gate_run() {
	GATE_RC=0
	rm -f "$WORK/$1.html"
	# shellcheck disable=SC2086 # GATE_EXTRA: words of extra options
	timeout 300 "$LPS" gate "build/fixtures/$LPS_KREL/$1.ko" --baseline "${GATE_BASELINE:-4}" \
		--observe "${GATE_OBSERVE:-6}" ${GATE_EXTRA:-} --json --html "$WORK/$1.html" \
		>"$WORK/$1.json" 2>"$WORK/$1.err" || GATE_RC=$?
	# A judged gate (kept or reverted) writes its HTML report too (docs/report.md).
	if [[ $GATE_RC == 0 || $GATE_RC == 3 ]]; then
		gate_html_ok "$1"
	fi
}
# gate_html_ok NAME: gate's --html report exists, is one page and loads nothing
# (no script, no address); both files are kept with the run's results.
gate_html_ok() {
	local h="$WORK/$1.html"
	[[ -s $h ]] || fail "gate $1: no --html report"
	grep -q '</html>' "$h" || fail "gate $1: the --html report is cut short"
	grep -qiE '<script|<img|<link|<iframe|url\(|href="[^#]' "$h" &&
		fail "gate $1: the --html report loads something"
	grep -q '<svg' "$h" || fail "gate $1: the --html report has no plot"
	if [[ -n ${LPS_RESULTS:-} ]]; then
		cp "$WORK/$1.json" "$LPS_RESULTS/gate-$1.json"
		cp "$h" "$LPS_RESULTS/gate-$1.html"
	fi
	return 0
}
# failed_checks NAME: the failing checks of $WORK/NAME.json, sorted, one line
# ("runqueue_latency version_proc_show/latency"), system checks unprefixed.
failed_checks() {
	json "$WORK/$1.json" "' '.join(sorted([c['check'] for c in d['system']['checks'] if c['result']=='fail'] + [f['function'] + '/' + c['check'] for f in d['functions'] for c in f['checks'] if c['result']=='fail']))" 2>/dev/null || echo "(no JSON)"
}
# failed_details NAME: each failing check with its detail, one per line
failed_details() {
	json "$WORK/$1.json" "'\\n'.join(['  system ' + c['check'] + ': ' + c['detail'] for c in d['system']['checks'] if c['result']=='fail'] + ['  ' + f['function'] + ' ' + c['check'] + ': ' + c['detail'] for f in d['functions'] for c in f['checks'] if c['result']=='fail'])" 2>/dev/null || true
}
# all_details NAME: every check with its result and detail, one per line
all_details() {
	json "$WORK/$1.json" "'\\n'.join(['  system ' + c['check'] + ' ' + c['result'] + ': ' + c['detail'] for c in d['system']['checks']] + ['  ' + f['function'] + ' ' + c['check'] + ' ' + c['result'] + ': ' + c['detail'] for f in d['functions'] for c in f['checks']] + ['  verdict ' + d['verdict'] + ', ' + d['action'] + ' after ' + str(d['looks']) + ' look(s): ' + d['reason']])" 2>/dev/null || echo "  (no JSON)"
}
# check_failed NAME WHY: the gate's checks, every one, then the failure, last
check_failed() {
	echo "checks of gate $1:"
	all_details "$1"
	fail "$2"
}
gate_failed() {	# gate_failed NAME WHY: the output, then what failed, last (CI shows the tail)
	cat "$WORK/$1.err" "$WORK/$1.json"
	echo "failing checks of gate $1:"
	failed_details "$1"
	fail "gate $1: $2"
}
# rules_without CHECK...: the path of a rules file that turns those checks
# off, for a gate that proves one check: under a loaded host a timing check can
# trip at the first look, before the check under test has its evidence, and the
# gate then reverts, rightly, for that alone.
rules_without() {
	local IFS=- c
	local f="$WORK/without-$*.yaml"
	{ printf 'defaults:\n  checks:\n'; for c in "$@"; do printf '    %s:\n      enabled: false\n' "$c"; done; } >"$f"
	echo "$f"
}
# gate_case NAME WANT_RC: one gate that must exit WANT_RC
gate_case() {
	gate_run "$1"
	[[ $GATE_RC == "$2" ]] || gate_failed "$1" "exit $GATE_RC, want $2"
}
# gate_keep NAME [TIMING_CHECKS]: a patch that must be kept (exit 0).
# The lab's guests are TCG emulators whose clock is the host's: a host that is
# busy in one window and not the other (CI's was, in its first minutes) moves
# a function's latency and the system run queue by milliseconds, and the gate
# reverts on what it saw. So a revert whose failing checks are all timing
# checks (latency, runqueue_latency) is taken as the host's doing, said, and
# the gate is run again, twice at most; the third must keep the patch. A revert
# for anything else (errors, faults, contention, the transition) fails at once,
# and so does a judge that reverts the patch every time.
gate_keep() {
	local name=$1 try failed f
	for try in 1 2 3; do
		gate_run "$name"
		[[ $GATE_RC == 0 ]] && return 0
		[[ $GATE_RC == 3 && $try -lt 3 ]] || gate_failed "$name" "exit $GATE_RC, want 0 (try $try of 3)"
		failed=$(failed_checks "$name")
		[[ -n $failed ]] || gate_failed "$name" "reverted with no failing check (try $try)"
		for f in $failed; do
			[[ ${f##*/} == latency || ${f##*/} == runqueue_latency ]] ||
				gate_failed "$name" "reverted for $f, not a timing check (try $try)"
		done
		echo "note: try $try: $name reverted for timing alone ($failed):"
		failed_details "$name"
		[[ -e /sys/kernel/livepatch/$name ]] && fail "$name reverted, but still loaded"
	done
}
verdict() { json "$WORK/$1.json" "(d['verdict'], d['action'])"; }
check_of() {	# check_of NAME FUNC CHECK -> result
	json "$WORK/$1.json" "[c['result'] for f in d['functions'] if f['function']=='$2' for c in f['checks'] if c['check']=='$3'][0]"
}
sys_check() {	# sys_check NAME CHECK -> a system check's result
	json "$WORK/$1.json" "[c['result'] for c in d['system']['checks'] if c['check']=='$2'][0]"
}
check_detail() {	# check_detail NAME CHECK -> the first function's detail for CHECK
	json "$WORK/$1.json" "[c['detail'] for c in d['functions'][0]['checks'] if c['check']=='$2'][0]"
}
