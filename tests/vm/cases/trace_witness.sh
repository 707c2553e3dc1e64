#!/usr/bin/env bash
# The kprobe witness: a fentry probe that the kernel accepted but never runs
# must not be trusted. The lab kernels do not break fentry on their own, so
# LPS_TEST_FENTRY_TARGET points the fentry pair at a function nobody calls
# (cmdline_proc_show) while the witness watches the traced one.
. "$(dirname "$0")/lib.sh"
FN=version_proc_show
export LPS_TEST_FENTRY_TARGET=cmdline_proc_show

# auto: switch to kprobes and go on counting. The workload runs until trace is
# done (a fixed 15 s ended before the switch once when the host was busy).
"$LPLOAD" --file /proc/version --procs 2 --seconds 600 >/dev/null &
load=$!
"$LPS" trace "$FN" -d 4 --json >"$WORK/auto.out" 2>"$WORK/auto.err"
stop_load $load
grep -q "the fentry probe ran 0 times while a kprobe counted [0-9]* calls; switched to kprobes" "$WORK/auto.err" ||
	{ cat "$WORK/auto.err"; fail "no switch warning"; }
[[ $(fn_field "$WORK/auto.out" "$FN" attach) == kprobe ]] || fail "not switched to kprobe"
[[ $(fn_field "$WORK/auto.out" "$FN" verified) == True ]] || fail "kprobe not verified after the switch"
calls=$(fn_field "$WORK/auto.out" "$FN" calls)
[[ $calls -gt 0 ]] || fail "no calls counted after the switch"
ok "auto: broken fentry caught, switched to kprobes, $calls calls counted after"

# forced fentry: refuse, exit 1, one line
"$LPLOAD" --file /proc/version --procs 2 --seconds 600 >/dev/null &
load=$!
rc=0
"$LPS" trace "$FN" --mode fentry -d 4 >"$WORK/forced.out" 2>"$WORK/forced.err" || rc=$?
stop_load $load
[[ $rc == 1 ]] || fail "forced fentry: exit $rc, want 1"
grep -v '^Tracing' "$WORK/forced.err" >"$WORK/forced.lines"
[[ $(wc -l <"$WORK/forced.lines") == 1 ]] || { cat "$WORK/forced.err"; fail "want one error line"; }
grep -q "ran 0 times while a kprobe counted" "$WORK/forced.lines" || fail "wrong message"
ok "forced: $(cat "$WORK/forced.lines")"
