#!/usr/bin/env bash
# Exact call counts in both attach modes: the workload reads /proc/version N
# times; version_proc_show must have been called exactly N times, no more, no
# less, with every latency recorded, and both modes must agree.
. "$(dirname "$0")/lib.sh"

N=2000
for mode in fentry kprobe auto; do
	start_trace "$mode" version_proc_show --mode "$mode" --json
	"$LPLOAD" --file /proc/version --procs 4 --count $N >"$WORK/load.$mode"
	stop_trace
	out="$WORK/$mode.out"
	calls=$(fn_field "$out" version_proc_show calls)
	recorded=$(fn_field "$out" version_proc_show recorded)
	attach=$(fn_field "$out" version_proc_show attach)
	[[ $(lpload_field "$WORK/load.$mode" ops) == "$N" ]] || fail "lpload did not do $N ops"
	[[ $calls == "$N" ]] || fail "$mode: calls=$calls, want exactly $N"
	[[ $recorded == "$N" ]] || fail "$mode: recorded=$recorded latencies, want $N"
	[[ $(fn_field "$out" version_proc_show errors) == 0 ]] || fail "$mode: errors on a function that cannot fail"
	[[ $(fn_field "$out" version_proc_show verified) == True ]] || fail "$mode: probe not verified"
	p50=$(fn_field "$out" version_proc_show p50_ns)
	p99=$(fn_field "$out" version_proc_show p99_ns)
	max=$(fn_field "$out" version_proc_show max_ns)
	python3 -c "import sys; p50,p99,mx=map(float,sys.argv[1:]); sys.exit(not (0 < p50 <= p99 <= mx))" \
		"$p50" "$p99" "$max" || fail "$mode: percentiles out of order: p50=$p50 p99=$p99 max=$max"
	[[ $mode == auto ]] && [[ $attach != fentry ]] && fail "auto chose $attach on an unpatched function with BTF"
	[[ $mode != auto ]] && [[ $attach != "$mode" ]] && fail "--mode $mode attached $attach"
	ok "$mode: $calls calls of $N, p50=${p50%.*}ns p99=${p99%.*}ns"
done

# kprobe mode made a tracefs kretprobe event; it must be gone after exit.
if grep -q lpsentinel /sys/kernel/tracing/kprobe_events; then
	cat /sys/kernel/tracing/kprobe_events
	fail "tracefs kretprobe events left behind"
fi
ok "no kprobe events left behind"
