#!/usr/bin/env bash
# trace --cpu-budget: a function whose probes would cost more than the budget
# is traced in attached windows; the calls counted in them are fewer than the
# workload made, the estimate over the run is near the true count, and every
# report, each interval's too, says what was sampled. A budget the function
# stays under keeps the probes attached throughout: exact counts, as without
# a budget.
. "$(dirname "$0")/lib.sh"

N=3000
start_trace full version_proc_show --cpu-budget 100 --no-signals --json
"$LPLOAD" --file /proc/version --pread --procs 1 --count $N >/dev/null
stop_trace
s=$(json "$WORK/full.out" "d['functions'][0]['sampling']")
[[ $(fn_field "$WORK/full.out" version_proc_show calls) == "$N" ]] ||
	fail "budget 100%: calls $(fn_field "$WORK/full.out" version_proc_show calls), want $N; $s"
[[ $(json "$WORK/full.out" "d['functions'][0]['sampling']['sampled'] >= 0.999") == True ]] ||
	fail "budget 100%: not attached throughout: $s"
ok "budget 100%: attached throughout, $N calls of $N ($s)"

# A tight budget, 3 % of a CPU, under a steady workload that makes the
# probes cost two to four times that here: windows, and an estimate of the
# calls from them near what the workload did in the same span. Not 1 %: each
# cycle is charged its detach and attach (0.24 s of wall time at the full cost
# and 0.12 s of CPU in a TCG run), which at 1 % leaves one gap of 16 s in the
# 15 s and two windows to estimate from. The workload sleeps
# between reads: a task that never sleeps holds up the RCU-tasks grace period
# that attaching a probe waits for (in the lab, attaching took until such a
# loop ended), and a budget attaches again and again.
# The workload runs until the trace is done: a trace takes seconds to start in
# a busy guest, and windows after the workload ended would count nothing.
"$LPLOAD" --file /proc/version --procs 2 --pause-us 50 --seconds 300 >"$WORK/load.txt" &
load=$!
trap 'stop_load $load; pkill -x lpload || true' EXIT
nap 1
start_trace tight version_proc_show --cpu-budget 3 --no-signals --json -d 15 -i 5
wait "$TRACE_PID" || fail "trace --cpu-budget 3 exited with $?: $(cat "$WORK/tight.err")"
kill -TERM "$load"
wait "$load" || fail "workload: exit $?"
trap - EXIT
out=$WORK/tight.out
py - "$out" "$(lpload_field "$WORK/load.txt" ops_per_s)" "$(lpload_field "$WORK/load.txt" ops)" <<'PY' || fail "budget 3%: $(head -c 3000 "$out")"
import json, sys
d = json.load(open(sys.argv[1]))
rate = float(sys.argv[2])
ops = int(sys.argv[3])	# the workload's own count over its whole run
f = d["functions"][0]
s = f["sampling"]
want = rate * d["duration_s"]
assert f["attach"] == "kprobe", f["attach"]
assert f["calls"] <= ops, (f["calls"], ops)	# counted: never more than were made
assert s["full_cost_pct"] > 3, s	# else the budget would not bite here
# No return paired with a frame from an earlier window: that would read as a
# call as long as the gap between windows (seconds here).
assert f["max_ns"] < 1e9, f["max_ns"]
assert 0 < s["sampled"] < 0.7, s
assert s["windows"] >= 2, s
assert 0 < f["calls"] < 0.7 * want, (f["calls"], want)
# The estimate against the workload's own rate over the trace's span.
assert 0.6 * want < s["calls_estimated"] < 1.4 * want, (s, want)
# Each interval says what it sampled: its calls add up to the total, and its
# estimates, each from its own share attached, to about the workload's count.
iv = [i["functions"][0] for i in d["intervals"]]
assert len(iv) >= 3, len(iv)
assert sum(i["calls"] for i in iv) == f["calls"], ([i["calls"] for i in iv], f["calls"])
for i in iv:
	si = i["sampling"]
	assert si["cpu_budget_pct"] == 3 and 0 <= si["sampled"] <= 1 and si["calls_counted"] == i["calls"], si
	assert si["calls_estimated"] is not None or i["calls"] == 0, si
# An interval wholly in a gap estimates nothing (null): the others' estimates
# against the workload's rate over their own spans.
est, span, prev = 0, 0, 0
for i in d["intervals"]:
	si = i["functions"][0]["sampling"]
	if si["calls_estimated"] is not None:
		est += si["calls_estimated"]
		span += i["t_s"] - prev
	prev = i["t_s"]
assert span > 0 and 0.6 * rate * span < est < 1.4 * rate * span, ([i["sampling"] for i in iv], rate * span)
print(f"ok: budget 3%: probes would cost {s['full_cost_pct']:.1f}% of a CPU; sampled "
      f"{s['sampled'] * 100:.1f}% of {d['duration_s']:.1f} s in {s['windows']} windows, "
      f"{f['calls']} calls counted, about {s['calls_estimated']:.0f} estimated against "
      f"{want:.0f} from the workload's rate; {f['unmatched']} returns unmatched (attach and detach); "
      f"{len(iv)} intervals sampled {', '.join('%.1f%%' % (i['sampling']['sampled'] * 100) for i in iv)}, "
      f"estimates adding up to {est:.0f}")
PY

# Usage errors: one line, exit 2.
for bad in 0 -1 101 abc; do
	rc=0
	"$LPS" trace version_proc_show --cpu-budget "$bad" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
	[[ $rc == 2 && $(wc -l <"$WORK/bad.err") == 1 ]] || fail "--cpu-budget $bad: exit $rc, $(cat "$WORK/bad.err")"
done
ok "--cpu-budget 0, -1, 101, abc: one usage error line each, exit 2"
