#!/usr/bin/env bash
# Nesting and recursion pair each return with its own entry:
#  - nesting: seq_read_iter calls version_proc_show; both traced, the outer
#    call's latency must contain the inner one's;
#  - recursion: lps_fail_recurse(d) calls itself d deep (lps_fail fixture);
#    every call counted, every latency paired, no stack overflow drops.
# In the default mode (a per-task stack of open calls) and, where the kernel
# has them, with kprobe sessions (6.10 to 6.19) and tracing sessions (7.0+):
# a per-call cookie, no depth limit.
# vm-sid: yes
. "$(dirname "$0")/lib.sh"

modes=(auto)
has_ksession && modes+=(kprobe-session)
has_fsession && modes+=(fsession)

insmod "build/fixtures/$LPS_KREL/lps_fail.ko"
trap 'rmmod lps_fail 2>/dev/null || true' EXIT

for mode in "${modes[@]}"; do
	N=1000
	start_trace "nest-$mode" seq_read_iter version_proc_show --mode "$mode" --json
	"$LPLOAD" --file /proc/version --procs 2 --count $N >/dev/null
	stop_trace
	out="$WORK/nest-$mode.out"
	[[ $(fn_field "$out" version_proc_show calls) == "$N" ]] || fail "$mode: inner calls != $N"
	outer=$(fn_field "$out" seq_read_iter calls)
	[[ $outer -ge $N ]] || fail "$mode: seq_read_iter calls=$outer < $N"
	py - "$out" <<'PY' || fail "$mode: outer latency does not contain the inner one"
import json, sys
d = {f["function"]: f for f in json.load(open(sys.argv[1]))["functions"]}
o, i = d["seq_read_iter"], d["version_proc_show"]
assert i["recorded"] == i["calls"], i
assert o["p50_ns"] > i["p50_ns"], (o["p50_ns"], i["p50_ns"])
PY
	[[ $(json "$out" "d['dropped']['too_deep']") == 0 ]] || fail "$mode: frames dropped as too deep"
	ok "$mode nesting: version_proc_show $N calls inside seq_read_iter ($outer calls), outer p50 > inner p50"

	D=12 W=50
	start_trace "rec-$mode" lps_fail_recurse --mode "$mode" --json
	"$LPLOAD" --file /proc/lps_fail --procs 2 --count $W --write r$D >/dev/null
	stop_trace
	out="$WORK/rec-$mode.out"
	calls=$(fn_field "$out" lps_fail_recurse calls)
	[[ $calls == $((D * W)) ]] || fail "$mode recursion: calls=$calls, want $((D * W))"
	[[ $(fn_field "$out" lps_fail_recurse recorded) == "$calls" ]] || fail "$mode recursion: not every latency paired"
	[[ $(fn_field "$out" lps_fail_recurse unmatched) == 0 ]] || fail "$mode recursion: unmatched returns"
	[[ $(json "$out" "d['dropped']['too_deep']") == 0 ]] || fail "$mode recursion: frames dropped"
	ok "$mode recursion: $calls calls at depth $D, all paired"

	# Deeper than the per-task stack: the overflow is counted, calls stay exact.
	# A session's cookie belongs to its call: nothing overflows, every one pairs.
	D=20 W=10
	start_trace "deep-$mode" lps_fail_recurse --mode "$mode" --json
	"$LPLOAD" --file /proc/lps_fail --procs 1 --count $W --write r$D >/dev/null
	stop_trace
	out="$WORK/deep-$mode.out"
	[[ $(fn_field "$out" lps_fail_recurse calls) == $((D * W)) ]] || fail "$mode deep recursion: calls not exact"
	dropped=$(json "$out" "d['dropped']['too_deep']")
	recorded=$(fn_field "$out" lps_fail_recurse recorded)
	if [[ $mode == *session ]]; then
		[[ $dropped == 0 && $recorded == $((D * W)) ]] ||
			fail "$mode deep recursion: dropped=$dropped recorded=$recorded, want 0 and $((D * W))"
		ok "$mode recursion past 16 frames: all $recorded calls paired, none dropped"
	else
		[[ $dropped == $(((D - 16) * W)) ]] || fail "$mode deep recursion: dropped=$dropped, want $(((D - 16) * W))"
		ok "$mode recursion past 16 frames: calls exact, $dropped overflowing latencies counted as dropped"
	fi
done
