#!/usr/bin/env bash
# gate under injected faults (tests/faults/lps_faults.c, LD_PRELOAD): real
# system calls made to fail, or gate SIGKILLed right after one returns.
# - BPF map creation and program loading fail (ENOMEM, EAGAIN): one error line
#   naming the map or program, exit 1, nothing loaded, no BPF left;
# - a transient EAGAIN on a program load is retried (libbpf) and gate goes on;
# - SIGKILL after finit_module and while observing: what is left is named by
#   `lpsentinel status` and `lpsentinel revert NAME --unload` finishes it;
#   after delete_module (in a revert) nothing is left, and status says so.
# The faults of the revert are in faults_gate_revert.sh.
# Not exclusive: no verdict here depends on timing (lp_gate_slow is x10 and
# more over the thresholds; the kept patch is killed before its verdict).
# One lab kernel (docs/lab.md, "Which kernels"): the faults are in
# lpsentinel's own system calls, the handling the same on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
. tests/faults/lib.sh
start_gate_workload

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

# 4. SIGKILL right after delete_module in the revert of lp_gate_slow: the
# revert was complete; nothing is left, and status says nothing of it.
: >"$FLOG"
fgate unload lp_gate_slow 'kill_after:delete_module'
fwait 137 unload
injected "SIGKILL after delete_module" || fail "kill_after:delete_module: not injected"
not_loaded lp_gate_slow "SIGKILL after delete_module"
no_bpf_left "SIGKILL after delete_module"
st=$("$LPS" status)
[[ $st == *lp_gate_slow* ]] && fail "SIGKILL after delete_module: status names lp_gate_slow: $st"
ok "SIGKILL after delete_module: nothing left; status: $st"
