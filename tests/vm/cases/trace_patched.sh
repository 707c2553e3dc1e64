#!/usr/bin/env bash
# Tracing a function that a livepatch replaces, in every attach order:
#  1. probes attached before the patch is enabled, kept across the enable;
#  2. auto mode on an already patched function (must pick kprobes);
#  3. fentry forced on an already patched function: some kernels (6.1) accept
#     it and never run it (docs/kernel-facts.md); lpsentinel must then fail loudly
#     through its kprobe witness, never report a silent zero.
#  4. session probes (kprobe sessions on 6.10 to 6.19, fsession on 7.0+) on
#     the patched function, and fsession across the enable as well.
# Counts must be exact wherever lpsentinel reports success.
# On sid's kernel too: BPF trampolines and livepatch share ftrace call
# sites, and how they share them changes between kernels (docs/lab.md).
# vm-sid: yes
. "$(dirname "$0")/lib.sh"

FN=cmdline_proc_show
KO=build/fixtures/$LPS_KREL/lp_cmdline.ko
SYS=/sys/kernel/livepatch/lp_cmdline

wait_transition() {
	for _ in $(seq 1 300); do
		[[ -e $SYS/transition && $(cat $SYS/transition) == 0 ]] && return 0
		sleep 0.1
	done
	fail "patch transition did not finish"
}

unpatch() {
	[[ -e $SYS/enabled ]] || return 0
	echo 0 >$SYS/enabled
	for _ in $(seq 1 300); do [[ -e $SYS ]] || break; sleep 0.1; done
	rmmod lp_cmdline
}
trap unpatch EXIT

# 1. attached before, across the enable: fentry, and a tracing session
#    (7.0+) on the trampoline the patch then shares.
across() {	# across MODE: attached, 400 calls, the patch enabled, 600 calls
	start_trace "across-$1" "$FN" --mode "$1" --no-signals --json
	"$LPLOAD" --file /proc/cmdline --procs 2 --count 400 >/dev/null
	insmod "$KO"
	wait_transition
	"$LPLOAD" --file /proc/cmdline --procs 2 --count 600 >/dev/null
	stop_trace
	grep -q "lp_cmdline: patched" /proc/cmdline || fail "$1: patch not in effect"
	calls=$(fn_field "$WORK/across-$1.out" "$FN" calls)
	# kmod's insmod reads /proc/cmdline once itself, for "module.param=" options.
	[[ $calls == 1001 ]] || fail "$1 across the enable: calls=$calls, want 1001 (400 + insmod's read + 600)"
	ok "$1 attached before the patch: $calls calls across the enable, exact"
}
if has_fsession; then
	across fsession
	unpatch
fi
across fentry

# 2. auto on a patched function
start_trace auto "$FN" --json
"$LPLOAD" --file /proc/cmdline --procs 2 --count 500 >/dev/null
stop_trace
[[ $(fn_field "$WORK/auto.out" "$FN" attach) == kprobe ]] || fail "auto did not pick kprobes on a patched function"
calls=$(fn_field "$WORK/auto.out" "$FN" calls)
[[ $calls == 500 ]] || fail "auto on patched: calls=$calls, want 500"
ok "auto mode on a patched function: kprobe, $calls calls"

# 3. fentry forced after the patch: exact, or a loud refusal; never a silent zero.
# The workload runs until trace is done: a fixed 8 s ended before a slow start
# (two guests on the host) had attached, and an idle function reads 0 calls.
"$LPLOAD" --file /proc/cmdline --procs 2 --seconds 600 >"$WORK/load3" &
load=$!
rc=0
timeout 120 "$LPS" trace "$FN" --mode fentry -d 4 --json >"$WORK/forced.out" 2>"$WORK/forced.err" || rc=$?
stop_load $load
if [[ $rc == 0 ]]; then
	calls=$(fn_field "$WORK/forced.out" "$FN" calls)
	[[ $calls -gt 0 ]] || fail "forced fentry on a patched function reported 0 calls and exit 0"
	[[ $(fn_field "$WORK/forced.out" "$FN" verified) == True ]] || fail "forced fentry not verified"
	ok "forced fentry after the patch works on this kernel ($calls calls, verified)"
else
	[[ $rc == 1 ]] || fail "forced fentry: exit $rc"
	grep -q "ran 0 times while a kprobe counted" "$WORK/forced.err" || { cat "$WORK/forced.err"; fail "no witness message"; }
	ok "forced fentry after the patch is broken on this kernel and was caught: $(cat "$WORK/forced.err")"
fi

# 4. kprobe session (6.10+) on the patched function: an fprobe beside the
#    livepatch's IPMODIFY ftrace_ops; the entry is the original's, the return
#    the replacement's. Exact, and the patch stays in effect.
if has_ksession; then
	start_trace session "$FN" --mode kprobe-session --json
	"$LPLOAD" --file /proc/cmdline --procs 2 --count 500 >/dev/null
	stop_trace
	[[ $(fn_field "$WORK/session.out" "$FN" attach) == kprobe_session ]] || fail "--mode kprobe-session did not attach a session"
	calls=$(fn_field "$WORK/session.out" "$FN" calls)
	[[ $calls == 500 ]] || fail "kprobe-session on patched: calls=$calls, want 500"
	[[ $(fn_field "$WORK/session.out" "$FN" recorded) == 500 ]] || fail "kprobe-session on patched: not every latency paired"
	grep -q "lp_cmdline: patched" /proc/cmdline || fail "patch not in effect beside the session probe"
	ok "kprobe session on a patched function: $calls calls, all paired, the replacement ran"
fi
if has_fsession; then
	start_trace fsession "$FN" --mode fsession --json
	"$LPLOAD" --file /proc/cmdline --procs 2 --count 500 >/dev/null
	stop_trace
	[[ $(fn_field "$WORK/fsession.out" "$FN" attach) == fsession ]] || fail "--mode fsession did not attach a session"
	calls=$(fn_field "$WORK/fsession.out" "$FN" calls)
	[[ $calls == 500 ]] || fail "fsession on patched: calls=$calls, want 500"
	grep -q "lp_cmdline: patched" /proc/cmdline || fail "patch not in effect beside the fsession probe"
	ok "fsession on a patched function: $calls calls, $(fn_field "$WORK/fsession.out" "$FN" recorded) paired, the replacement ran"
fi
