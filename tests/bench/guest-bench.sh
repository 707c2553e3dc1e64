#!/usr/bin/env bash
# Runs inside a lab guest (see run-bench.sh). Per-call cost of tracing one
# function, as workload throughput: one process preads /proc/version at offset
# 0 (one version_proc_show call per op) for BENCH_SECONDS, BENCH_ROUNDS times per
# configuration; untraced rounds run between configurations so drift shows.
# Writes $LPS_RESULTS/bench.json and prints a table.
set -euo pipefail
FN=version_proc_show
S=${BENCH_SECONDS:-3}
R=${BENCH_ROUNDS:-5}
WORK=$(mktemp -d /tmp/lpsbench.XXXXXX)
results=$LPS_RESULTS/bench.txt
: >"$results"

ops() {
	local out
	out=$(build/lpload --file /proc/version --pread --procs 1 --seconds "$S") ||
		{ echo "bench: workload failed" >&2; exit 1; }
	sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p' <<<"$out"
}

# wait_ready FILE PATTERN PID
wait_ready() {
	for _ in $(seq 1 1500); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { cat "$1"; echo "bench: tracer died" >&2; exit 1; }
		sleep 0.2
	done
	echo "bench: tracer not ready in 300 s" >&2; exit 1
}

# tracer CONFIG: the command that attaches CONFIG's probes (none for untraced)
tracer() {
	case $1 in
	untraced) ;;
	floor) echo build/lps-floor "$FN" ;;
	# the probe core alone (--no-signals), comparable with the floor and bpftrace
	lpsentinel) echo ./lpsentinel trace "$FN" --mode fentry --no-signals ;;
	lpsentinel-kprobe) echo ./lpsentinel trace "$FN" --mode kprobe --no-signals ;;
	lpsentinel-64) echo ./lpsentinel trace "$FN" $(cat "$WORK/idle") --mode fentry --no-signals ;;
	# and with the health signals (lock contention, page faults, run queue, and
	# the syscall-entry reset every syscall now pays): trace's default
	lpsentinel-signals) echo ./lpsentinel trace "$FN" --mode fentry ;;
	bpftrace) echo bpftrace "$WORK/bt.bt" ;;
	esac
}

# one CONFIG: attach, run the workload once, detach. Readiness ("Tracing") is
# printed on stderr by lpsentinel and lps-floor, on stdout by bpftrace.
one() {
	local cmd pid
	cmd=$(tracer "$1")
	if [[ -n $cmd ]]; then
		$cmd >"$WORK/t.log" 2>&1 &
		pid=$!
		wait_ready "$WORK/t.log" Tracing $pid
		# Steady state: lpsentinel verifies its probes in the first 2 s and
		# drops their kprobe witnesses; every configuration waits the same.
		sleep 2.5
	fi
	echo "$1 $(ops)" >>"$results"
	if [[ -n $cmd ]]; then kill -INT $pid; wait $pid || true; fi
}

# 63 idle functions for the 64-function run: BTF, ftrace-able, unique names.
bpftool btf dump file /sys/kernel/btf/vmlinux | sed -n "s/^\[[0-9]*\] FUNC '\([^']*\)'.*/\1/p" | sort -u >"$WORK/btf"
grep -v '\[' /sys/kernel/tracing/available_filter_functions | sort | uniq -u >"$WORK/aff"
comm -12 "$WORK/btf" "$WORK/aff" | grep -E '_show$' | grep -vx "$FN" | sed -n 1,63p >"$WORK/idle"

cat >"$WORK/bt.bt" <<BT
kfunc:$FN { @start[tid] = nsecs; }
kretfunc:$FN /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }
BEGIN { printf("Tracing\n"); }
BT

# Round-robin, order rotated every round: slow drift of the emulator hits every
# configuration alike instead of whichever ran last.
configs=(untraced floor lpsentinel lpsentinel-signals lpsentinel-kprobe lpsentinel-64 bpftrace)
for r in $(seq 0 $((R - 1))); do
	for i in "${!configs[@]}"; do
		one "${configs[$(((i + r) % ${#configs[@]}))]}"
	done
done

# Userspace CPU of trace with 64 functions and 1 s intervals, over 20 s.
./lpsentinel trace "$FN" $(cat "$WORK/idle") -i 1 --json >/dev/null 2>"$WORK/cpu.err" &
pid=$!
wait_ready "$WORK/cpu.err" Tracing $pid
t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 20
t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
kill -INT $pid; wait $pid || true
echo "cpu64 $(( t1 - t0 )) $(getconf CLK_TCK)" >>"$results"
# How much slower this guest runs plain userspace code than the host: the same
# CPU-bound job timed here and by run-bench.sh on the host.
echo "spin $(tests/bench/spin.sh)" >>"$results"

python3 - "$results" "$LPS_RESULTS/bench.json" <<'PY'
import json, statistics, sys
runs = {}
cpu = spin = None
for line in open(sys.argv[1]):
    k, *v = line.split()
    if k == "cpu64":
        cpu = int(v[0]) / int(v[1]) / 20 * 100
        continue
    if k == "spin":
        spin = float(v[0])
        continue
    runs.setdefault(k, []).append(float(v[0]))
med = {k: statistics.median(v) for k, v in runs.items()}
base_ns = 1e9 / med["untraced"]
floor_ns = 1e9 / med["floor"] - base_ns
rows = []
print(f"{'configuration':<20} {'ops/s (median)':>15} {'ns/op':>8} {'added ns/call':>14} {'x floor':>8}")
for k in ["untraced", "floor", "lpsentinel", "lpsentinel-signals", "lpsentinel-kprobe", "lpsentinel-64", "bpftrace"]:
    ns = 1e9 / med[k]
    added = ns - base_ns
    ratio = added / floor_ns if floor_ns > 0 else float("nan")
    rows.append({"config": k, "ops_per_s": med[k], "ns_per_op": ns, "added_ns": added,
                 "x_floor": ratio, "runs": runs[k]})
    print(f"{k:<20} {med[k]:>15.0f} {ns:>8.0f} {added:>14.0f} {ratio:>8.2f}")
print(f"untraced spread: min {min(runs['untraced']):.0f} max {max(runs['untraced']):.0f} ops/s over {len(runs['untraced'])} runs")
print(f"trace, 64 functions, -i 1: userspace CPU {cpu:.2f}% of one core (TCG guest)")
print(f"spin job in the guest: {spin:.2f} s")
json.dump({"rows": rows, "cpu64_percent": cpu, "guest_spin_s": spin}, open(sys.argv[2], "w"), indent=1)
PY
