#!/usr/bin/env bash
# gate under injected faults (tests/faults/lps_faults.c, LD_PRELOAD): real
# system calls made to fail, or gate SIGKILLed right after one returns.
# - BPF map creation and program loading fail (ENOMEM, EAGAIN): one error line
#   naming the map or program, exit 1, nothing loaded, no BPF left;
# - a transient EAGAIN on a program load is retried (libbpf) and gate goes on;
# - EIO on writing 0 to 'enabled' while reverting lp_gate_slow: exit 1, the
#   failed revert said as it is, the patch left enabled and visible to status;
# - SIGKILL after finit_module, while observing, right after enabled=0 in a
#   revert, after delete_module: what is left is named by `lpsentinel status`
#   and `lpsentinel revert NAME --unload` finishes it.
# Not exclusive: no verdict here depends on timing (lp_gate_slow is x10 and
# more over the thresholds; the kept patch is killed before its verdict).
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
SHIM=$PWD/build/lps_faults.so
[[ -e $SHIM ]] || fail "$SHIM is missing (make build/lps_faults.so)"
start_gate_workload
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
	wait "$GATE_PID" || rc=$?
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

# 1. BPF refused before anything is loaded: one line, exit 1, nothing left.
for f in 'bpf_map_create@hists:ENOMEM:1+' 'bpf_map_create@hists:EAGAIN:1+' \
	'bpf_prog_load@lps_:ENOMEM:1+' 'bpf_prog_load@lps_:EAGAIN:1+'; do
	n=${f%%:1+}; n=${n//[@:]/_}
	fgate "$n" lp_gate_ok "$f"
	fwait 1 "$n"
	call=${f%%@*}; call=${call#bpf_}; what=${f#*@}; what=${what%%:*}; err=${f#*:}; err=${err%%:*}
	injected "bpf(BPF_${call^^})" || fail "$f: the shim injected nothing"
	mapfile -t lines <"$WORK/$n.err"
	((${#lines[@]} == 1)) || { cat "$WORK/$n.err"; fail "$f: ${#lines[@]} lines on stderr, want 1"; }
	[[ ${lines[0]} == "lpsentinel: error: version_proc_show: "*"'$what"* ]] ||
		fail "$f: the error line does not name $what: ${lines[0]}"
	case $err in ENOMEM) e='Cannot allocate memory' ;; EAGAIN) e='Resource temporarily unavailable' ;; esac
	[[ ${lines[0]} == *"$e"* ]] || fail "$f: the error line does not say $e: ${lines[0]}"
	not_loaded lp_gate_ok "$f"
	no_bpf_left "$f"
	ok "$f: exit 1, nothing loaded: ${lines[0]}"
done

# 2. A transient EAGAIN on loading the exit probe is retried; gate goes on to
# observe. Then SIGKILL while observing: the patch stays, status names it.
: >"$FLOG"
fgate observe lp_gate_ok 'bpf_prog_load@lps_fexit:EAGAIN:1'
end=$((SECONDS + 180))
until file_has "$WORK/observe.err" 'observing'; do
	kill -0 "$GATE_PID" 2>/dev/null || { cat "$WORK/observe.err"; fail "transient EAGAIN: gate exited"; }
	((SECONDS < end)) || fail "transient EAGAIN: gate not observing after 180 s"
	nap 0.2
done
injected "(name 'lps_fexit'): EAGAIN" || fail "transient EAGAIN: not injected"
ok "transient EAGAIN on loading lps_fexit: retried, gate observing: $(head -n2 "$WORK/observe.err" | tail -n1)"
nap 2
kill -9 "$GATE_PID"
fwait 137 observe
no_bpf_left "SIGKILL while observing"
[[ $(cat /sys/kernel/livepatch/lp_gate_ok/enabled) == 1 ]] || fail "SIGKILL while observing: lp_gate_ok not enabled"
finish lp_gate_ok "SIGKILL while observing"

# 3. SIGKILL right after finit_module: loaded, unjudged.
: >"$FLOG"
fgate finit lp_gate_ok 'kill_after:finit_module'
fwait 137 finit
injected "SIGKILL after finit_module" || fail "kill_after:finit_module: not injected"
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "kill_after:finit_module: lp_gate_ok not loaded"
no_bpf_left "SIGKILL after finit_module"
finish lp_gate_ok "SIGKILL after finit_module"

# 4. EIO on writing 0 to 'enabled' while reverting the slow patch: the revert
# fails, gate says so (exit 1, action "revert failed") and the patch is left
# enabled and loaded, named by status.
: >"$FLOG"
fgate eio lp_gate_slow 'sysfs_write:/enabled:EIO:1' --json
fwait 1 eio
injected "write(0) to .../enabled call 1: EIO" || fail "EIO: not injected: $(cat "$FLOG")"
grep -q 'lp_gate_slow: the kernel refused to disable it (writing 0 to enabled: Input/output error): it is still enabled and its module loaded' \
	"$WORK/eio.err" || { cat "$WORK/eio.err"; fail "EIO: the failed revert is not said"; }
[[ $(json "$WORK/eio.out" "(d['verdict'], d['action'])") == "('fail', 'revert failed')" ]] ||
	fail "EIO: $(json "$WORK/eio.out" "(d['verdict'], d['action'], d.get('revert_error'))")"
[[ $(cat /sys/kernel/livepatch/lp_gate_slow/enabled) == 1 ]] || fail "EIO: lp_gate_slow is not enabled"
no_bpf_left "EIO on enabled"
ok "EIO on enabled=0: exit 1: $(grep 'refused to disable' "$WORK/eio.err")"
finish lp_gate_slow "EIO on enabled"

# 5. SIGKILL right after writing enabled=0 in the revert: unpatching or
# unpatched, the module loaded.
: >"$FLOG"
fgate disable lp_gate_slow 'kill_after:sysfs_write:/enabled:0'
fwait 137 disable
injected "SIGKILL after sysfs_write" || fail "kill_after enabled=0: not injected"
no_bpf_left "SIGKILL after enabled=0"
finish lp_gate_slow "SIGKILL after enabled=0"

# 6. SIGKILL right after delete_module: the revert was complete; nothing is
# left, and status says nothing of it.
: >"$FLOG"
fgate unload lp_gate_slow 'kill_after:delete_module'
fwait 137 unload
injected "SIGKILL after delete_module" || fail "kill_after:delete_module: not injected"
not_loaded lp_gate_slow "SIGKILL after delete_module"
no_bpf_left "SIGKILL after delete_module"
st=$("$LPS" status)
[[ $st == *lp_gate_slow* ]] && fail "SIGKILL after delete_module: status names lp_gate_slow: $st"
ok "SIGKILL after delete_module: nothing left; status: $st"
