#!/usr/bin/env bash
# gate's revert under injected faults (tests/faults/lps_faults.c, LD_PRELOAD):
# - EIO on writing 0 to 'enabled' while reverting lp_gate_slow: exit 1, the
#   failed revert said as it is, the patch left enabled and named by status;
# - SIGKILL right after enabled=0 in the revert: what is left is named by
#   `lpsentinel status` and `lpsentinel revert NAME --unload` finishes it.
# (SIGKILL after delete_module is in faults_gate.sh, for the time table.)
# Not exclusive: lp_gate_slow is x10 and more over the thresholds.
# One lab kernel (docs/lab.md, "Which kernels"): the faults are in
# lpsentinel's own system calls, the handling the same on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
. tests/faults/lib.sh
start_gate_workload

# 1. EIO on writing 0 to 'enabled' while reverting the slow patch: the revert
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

# 2. SIGKILL right after writing enabled=0 in the revert: unpatching or
# unpatched, the module loaded.
: >"$FLOG"
fgate disable lp_gate_slow 'kill_after:sysfs_write:/enabled:0'
fwait 137 disable
injected "SIGKILL after sysfs_write" || fail "kill_after enabled=0: not injected"
no_bpf_left "SIGKILL after enabled=0"
finish lp_gate_slow "SIGKILL after enabled=0"
