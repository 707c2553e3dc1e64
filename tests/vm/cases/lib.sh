# Helpers for VM test cases. Sourced by tests/vm/cases/*.sh, which run inside a
# guest (tests/vm/run-in-vm.sh) with the repository root as cwd.
set -euo pipefail

LPS=${LPS:-./lpsentinel}
LPLOAD=${LPLOAD:-build/lpload}
WORK=$(mktemp -d /tmp/lpstest.XXXXXX)
TRACE_PID=
# A fifo nobody writes: `read -t` on it is a sleep without exec.
mkfifo "$WORK/nap"
exec {NAP_FD}<>"$WORK/nap"

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# start_trace NAME ARGS...: runs `lpsentinel trace ARGS` in the background with
# stdout in $WORK/NAME.out and stderr in $WORK/NAME.err, and returns once its
# probes are attached (it prints "Tracing" on stderr) or fails if it exits.
start_trace() {
	local name=$1 line; shift
	"$LPS" trace "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	TRACE_PID=$!
	# Bash builtins only from here on: an exec would make the dynamic loader
	# probe library paths that do not exist, failed opens that the error
	# tests (do_filp_open) would count.
	for ((i = 0; i < 600; i++)); do
		[[ -s $WORK/$name.err ]] && IFS= read -r line <"$WORK/$name.err" && [[ $line == Tracing* ]] && return 0
		kill -0 "$TRACE_PID" 2>/dev/null || { cat "$WORK/$name.err"; fail "trace $* exited before attaching"; }
		read -r -t 0.2 -u "$NAP_FD" _ || true
	done
	fail "trace $* did not attach within 120 s"
}

# stop_trace: SIGINT, as a user's Ctrl-C; trace prints its totals and exits 0.
stop_trace() {
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID" || fail "trace exited with $? after SIGINT"
}

# jq-like access without jq: json FILE 'python expression over d'
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# fn_field FILE FUNC FIELD: one field of one function in trace --json output
fn_field() {
	json "$1" "[f for f in d['functions'] if f['function']=='$2'][0]['$3']"
}

# lpload_ops OUTPUT: the ops=N count lpload printed
lpload_field() { sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" "$1"; }
