# Helpers for the fault-injection VM cases (tests/vm/cases/faults_*.sh), sourced
# after tests/vm/cases/lib.sh: gate under the LD_PRELOAD shim
# (tests/faults/lps_faults.c) and the checks that nothing is left half-handled.
FX=build/fixtures/$LPS_KREL
SHIM=$PWD/build/lps_faults.so
[[ -e $SHIM ]] || fail "$SHIM is missing (make build/lps_faults.so)"
FLOG=$WORK/faults.log

# fgate NAME PATCH FAULT [GATE ARGS...]: gate PATCH under FAULT, in the
# background; stdout in $WORK/NAME.out, stderr in $WORK/NAME.err. GATE_PID.
fgate() {
	local name=$1 patch=$2 fault=$3; shift 3
	LD_PRELOAD=$SHIM LPS_FAULT=$fault LPS_FAULT_LOG=$FLOG \
		"$LPS" gate "$FX/$patch.ko" --baseline 3 --observe 6 "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	GATE_PID=$!
}
# fwait WANT_RC NAME: waits for the gate (at most 300 s) and checks its exit status.
fwait() {
	local rc=0 end=$((SECONDS + 300))
	while kill -0 "$GATE_PID" 2>/dev/null && ((SECONDS < end)); do nap 0.2; done
	kill -0 "$GATE_PID" 2>/dev/null && { kill -9 "$GATE_PID"; fail "$2: gate still running after 300 s"; }
	wait "$GATE_PID" 2>/dev/null || rc=$?	# (no "Killed" line from bash)
	[[ $rc == "$1" ]] || { cat "$WORK/$2.err" "$WORK/$2.out"; fail "$2: exit $rc, want $1"; }
}
injected() { file_has "$FLOG" "$1"; }	# injected TEXT: the shim logged it
no_bpf_left() {
	local n
	n=$(bpftool prog show | grep -c 'name lps_' || true)
	[[ $n == 0 ]] || fail "$1: $n lpsentinel BPF programs left behind"
}
not_loaded() {
	[[ -e /sys/module/$1 ]] && fail "$2: module $1 is loaded"
	return 0
}
# finish PATCH CASE: status names PATCH as left by a gate that is gone; revert --unload clears it.
finish() {
	local st
	st=$("$LPS" status)
	[[ $st == *"$1: left half-handled by gate pid $GATE_PID, which is gone"*"lpsentinel revert $1 --unload"* ]] ||
		fail "$2: status does not name $1 as half-handled: $st"
	"$LPS" status --json >"$WORK/$2.status.json"
	[[ $(json "$WORK/$2.status.json" "[(g['patch'], g['running'], g['module_loaded']) for g in d['gates']]") == "[('$1', False, True)]" ]] ||
		fail "$2: status --json gates: $(cat "$WORK/$2.status.json")"
	ok "$2: status says: $(grep -F "$1: left" <<<"$st")"
	"$LPS" revert "$1" --unload >"$WORK/$2.revert" 2>&1 || { cat "$WORK/$2.revert"; fail "$2: revert --unload failed"; }
	not_loaded "$1" "$2 after revert --unload"
	[[ -e /sys/kernel/livepatch/$1 ]] && fail "$2: livepatch $1 still there after revert --unload"
	st=$("$LPS" status)
	[[ $st == *"$1"* ]] && fail "$2: status still names $1 after revert --unload: $st"
	ok "$2: lpsentinel revert $1 --unload: $(cat "$WORK/$2.revert"); status clean"
}

