#!/usr/bin/env bash
# Runs inside a lab guest (see run-bench.sh). Per-call cost of tracing one
# function, as workload throughput: one process preads /proc/version at offset
# 0 (one version_proc_show call per op) for BENCH_SECONDS, BENCH_ROUNDS times per
# configuration; untraced rounds run between configurations so drift shows.
# Writes $LPS_RESULTS/bench.json and prints a table.
set -euo pipefail
FN=version_proc_show
# The hot function: getpid's body, one system call per op, so a million calls
# a second and more under the bench's instruction counting ("hot-*"
# configurations, each against hot-untraced and hot-floor). ftrace lists
# __do_sys_getpid, not the __x64_sys_getpid wrapper at the same address.
HOT=__do_sys_getpid
S=${BENCH_SECONDS:-3}
R=${BENCH_ROUNDS:-5}
WORK=$(mktemp -d /tmp/lpsbench.XXXXXX)
results=$LPS_RESULTS/bench.txt
: >"$results"

# pin CONFIG: the command prefix that puts CONFIG's workload and tracer on
# vCPU 0. Budget configurations run both there: under -icount a second busy
# vCPU is not charged to the workload one for one (round-robin TCG counts a
# busy vCPU's time while the other one runs), so the only sound "what
# lpsentinel costs that vCPU" is everything on it, process and probes alike.
pin() { [[ $1 == *budget ]] && echo taskset -c 0; return 0; }

ops() {	# ops CONFIG [SECONDS]: the workload's ops/s over SECONDS (default BENCH_SECONDS)
	local out what=(--file /proc/version --pread)
	[[ $1 == hot-* ]] && what=(--getpid)
	out=$($(pin "$1") build/lpload "${what[@]}" --procs 1 --seconds "${2:-$S}") ||
		{ echo "bench: workload failed" >&2; exit 1; }
	sed -n 's/.*ops_per_s=\([0-9.]*\).*/\1/p' <<<"$out"
}

# wait_ready FILE PATTERN PID (bcc and bpftrace compile for minutes under -icount)
wait_ready() {
	for _ in $(seq 1 3000); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { tail -n 5 "$1"; echo "bench: tracer died" >&2; return 1; }
		sleep 0.2
	done
	echo "bench: tracer not ready in 600 s" >&2; exit 1
}

# tracer CONFIG: the command that attaches CONFIG's probes (none for untraced)
tracer() {
	case $1 in
	untraced) ;;
	floor) echo build/lps-floor "$FN" ;;
	# the floor plus one of the calls lpsentinel's probes make, on entry and on
	# return alike (tests/bench/floor.bpf.c): what each part of a call costs
	floor-lookup|floor-curtask|floor-storage|floor-clock|floor-calls)
		echo build/lps-floor "$FN" "${1#floor-}" ;;
	# the floor of a tracing session (7.0+): one empty program at both ends
	floor-fsession) echo build/lps-floor "$FN" fsession ;;
	# the probe core alone (--no-signals), comparable with the floor and
	# bpftrace, attached the way trace attaches by default (--mode auto)
	lpsentinel) echo ./lpsentinel trace "$FN" --no-signals ;;
	lpsentinel-fentry) echo ./lpsentinel trace "$FN" --mode fentry --no-signals ;;
	# one tracing session program per function (7.0+): auto's choice there
	lpsentinel-fsession) echo ./lpsentinel trace "$FN" --mode fsession --no-signals ;;
	# the same fentry+fexit probes loaded alone, without lpsentinel's process
	# (tests/bench/probe.c): the probe path's own cost
	lpsentinel-probe) echo build/lps-probe "$FN" ;;
	lpsentinel-probe-fsession) echo build/lps-probe "$FN" fsession ;;
	lpsentinel-kprobe) echo ./lpsentinel trace "$FN" --mode kprobe --no-signals ;;
	# hot mode: probes attached in windows that keep them under 1 % of a CPU
	lpsentinel-budget) echo ./lpsentinel trace "$FN" --no-signals --cpu-budget 1 --json ;;
	# one kprobe session program per function (6.10+), for auto mode's choice
	lpsentinel-session) echo ./lpsentinel trace "$FN" --mode kprobe-session --no-signals ;;
	lpsentinel-8) echo ./lpsentinel trace "$FN" $(head -n7 "$WORK/idle") --mode fentry --no-signals ;;
	lpsentinel-64) echo ./lpsentinel trace "$FN" $(head -n63 "$WORK/idle") --mode fentry --no-signals ;;
	# the daemon watching the function, signals and BPF statistics on, as deployed
	watch) echo ./lpsentinel watch --state "$WORK/wstate" --function "$FN" ;;
	# bcc's funclatency (kprobe/kretprobe, log2 histogram), Python unbuffered so
	# its "Tracing" line is seen
	bcc) echo env PYTHONUNBUFFERED=1 funclatency-bpfcc "$FN" ;;
	# and with the health signals (lock contention, page faults, run queue, and
	# the syscall-entry reset every syscall now pays): trace's default
	lpsentinel-signals) echo ./lpsentinel trace "$FN" ;;
	bpftrace) echo bpftrace "$WORK/bt.bt" ;;
	hot-untraced) ;;
	hot-floor) echo build/lps-floor "$HOT" ;;
	hot-lpsentinel) echo ./lpsentinel trace "$HOT" --no-signals ;;
	# kprobes attached throughout, as a budget's windows attach them: what
	# the budget's estimate of a window's cost (full_cost_pct) is held to
	hot-kprobe) echo ./lpsentinel trace "$HOT" --no-signals --mode kprobe --json ;;
	hot-budget) echo ./lpsentinel trace "$HOT" --no-signals --cpu-budget 1 --json ;;
	# the daemon watching the hot function at 1 %, as deployed (signals and
	# BPF statistics on): the issue's "watched within 1 %"
	hot-watch-budget) echo ./lpsentinel watch --state "$WORK/wstate-hot" --function "$HOT" --cpu-budget 1 ;;
	esac
}

# A no-op livepatch: a replacement identical to the original, so what it costs
# is the livepatch redirection alone: the shipped calibration patch
# (calibration/lps_noop.c; lp_gate_ok prints a shorter banner and ran faster
# than the original).
NOOP=build/fixtures/$LPS_KREL/lps_noop.ko
noop_load() {
	insmod "$NOOP"
	for _ in $(seq 1 600); do
		[[ $(cat /sys/kernel/livepatch/lps_noop/transition 2>/dev/null) == 0 ]] && return 0
		sleep 0.2
	done
	echo "bench: no-op patch transition did not finish" >&2; exit 1
}
noop_unload() {
	echo 0 >/sys/kernel/livepatch/lps_noop/enabled
	for _ in $(seq 1 600); do
		[[ -e /sys/kernel/livepatch/lps_noop ]] || { rmmod lps_noop; return 0; }
		sleep 0.2
	done
	echo "bench: no-op patch unpatch transition did not finish; tasks left:" >&2
	for p in /proc/[0-9]*; do
		[[ $(cat "$p/patch_state" 2>/dev/null) == 1 ]] && echo "${p#/proc/} $(cat "$p/comm") $(head -n4 "$p/stack" | tr '\n' ' ')" >&2
	done
	exit 1
}

# one CONFIG: attach, run the workload once, detach. Readiness ("Tracing",
# "watching") is printed on stderr by lpsentinel and lps-floor, on stdout by
# bpftrace and bcc.
one() {
	local cmd pid
	if [[ $1 == noop-livepatch ]]; then
		noop_load
		echo "$1 $(ops "$1")" >>"$results"
		noop_unload
		return
	fi
	if [[ $1 == probe-bias ]]; then
		probe_bias
		return
	fi
	cmd=$(tracer "$1")
	if [[ -n $cmd ]]; then
		$(pin "$1") $cmd >"$WORK/t.log" 2>&1 &
		pid=$!
		# A tracer that cannot start on this kernel (a peer tool too old
		# for it, say) is left out of the table, and says why.
		if ! wait_ready "$WORK/t.log" 'Tracing|watching' $pid; then
			echo "bench: $1 left out on $(uname -r): its tracer did not start" >&2
			wait $pid || true
			return 0
		fi
		# Steady state: lpsentinel verifies its probes in the first 2 s and
		# drops their kprobe witnesses; every configuration waits the same.
		sleep 2.5
	fi
	local secs=$S t0 o
	if [[ $1 == *budget ]]; then
		# A budget cycles between an attached window and a gap many times
		# longer: its first window measures the workload, and only a span
		# of many cycles shows the average cost (BENCH_BUDGET_SECONDS).
		ops "$1" >/dev/null
		secs=${BENCH_BUDGET_SECONDS:-120}
	fi
	# What the tracer's own process ran meanwhile (ns on a CPU, system calls
	# included), exact where it shares the workload's vCPU (pin): how much of
	# the workload's loss is the process and how much the probes.
	t0=$(run_ns "${pid:-}")
	o=$(ops "$1" "$secs")
	echo "$1 $o $secs $(( $(run_ns "${pid:-}") - t0 ))" >>"$results"

	[[ -n $cmd ]] && stop_tracer $pid
	# A budget's own account of what it did (trace's JSON, the daemon's
	# status), beside the figures: what the budget saw against what it cost.
	if [[ $1 == *budget || $1 == hot-kprobe ]]; then
		cp "$WORK/t.log" "$LPS_RESULTS/$1.log"
		[[ -s $WORK/wstate-hot/status.json ]] && cp "$WORK/wstate-hot/status.json" "$LPS_RESULTS/$1-status.json"
		[[ -s $WORK/wstate-hot/audit.jsonl ]] && cp "$WORK/wstate-hot/audit.jsonl" "$LPS_RESULTS/$1-audit.jsonl"
	fi
	return 0
}

# run_ns PID: nanoseconds PID has run on a CPU (/proc/PID/schedstat); 0 for none
run_ns() {
	local t=0
	if [[ -n $1 ]]; then { read -r t _ <"/proc/$1/schedstat"; } 2>/dev/null || t=0; fi
	echo "${t:-0}"
}

# The probe's own cost across a patch: lpsentinel's fentry+fexit programs
# alone (lps-probe) on the function, measured without and then with the no-op
# patch on it, the probes attached throughout, as gate's and watch's are when
# a patch arrives. Against noop-livepatch (the redirection alone), what is
# left is what the patch does to the probe's cost (probe_bias in bench.json).
# lps-probe's count of calls before and after the patched run says whether
# the probes still ran on the patched function.
probe_bias() {
	local pid
	build/lps-probe "$FN" >"$WORK/p.out" 2>"$WORK/t.log" &
	pid=$!
	wait_ready "$WORK/t.log" Tracing $pid
	sleep 2.5
	mark() { kill -USR1 $pid; sleep 0.5; }
	mark
	echo "probe-unpatched $(ops probe-unpatched) $S 0" >>"$results"
	mark
	noop_load
	mark
	echo "probe-patched $(ops probe-patched) $S 0" >>"$results"
	mark
	noop_unload
	stop_tracer $pid
	# the four readings: the calls each run counted and their mean latency
	# as the probes recorded it (one guest ns is one instruction)
	awk '/^calls/ { c[NR] = $2; s[NR] = $6 }
	     END { if (NR != 4 || c[2] == c[1] || c[4] == c[3]) { print "probe-latency ? ? 0"; exit }
		   printf "probe-latency %.1f %.1f %d\n", (s[2] - s[1]) / (c[2] - c[1]),
			  (s[4] - s[3]) / (c[4] - c[3]), c[4] - c[3] }' "$WORK/p.out" >>"$results"
	echo "probe-bias: $(tail -n1 "$results")"
}

# SIGINT, as a user would; a tracer still there after 60 s gets SIGKILL. bcc's
# funclatency never finished exiting in the -icount guest (hung for 27 min in
# its detach); its figure was taken before, so only the wait is cut short.
stop_tracer() {
	kill -INT "$1"
	for _ in $(seq 1 300); do
		kill -0 "$1" 2>/dev/null || { wait "$1" || true; return 0; }
		sleep 0.2
	done
	echo "bench: pid $1 ($(cat /proc/$1/comm)) still there 60 s after SIGINT; SIGKILL" >&2
	kill -KILL "$1"; wait "$1" || true
}

# 63 idle functions for the 64-function run: BTF, ftrace-able, unique names.
bpftool btf dump file /sys/kernel/btf/vmlinux | sed -n "s/^\[[0-9]*\] FUNC '\([^']*\)'.*/\1/p" | sort -u >"$WORK/btf"
grep -v '\[' /sys/kernel/tracing/available_filter_functions | sort | uniq -u >"$WORK/aff"
# 255 idle functions for the scale run: _show functions first, then any.
comm -12 "$WORK/btf" "$WORK/aff" | grep -vx "$FN" >"$WORK/cands"
{ grep -E '_show$' "$WORK/cands"; grep -vE '_show$' "$WORK/cands"; } | sed -n 1,255p >"$WORK/idle"

cat >"$WORK/bt.bt" <<BT
kfunc:$FN { @start[tid] = nsecs; }
kretfunc:$FN /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }
BEGIN { printf("Tracing\n"); }
BT

# Round-robin, order rotated every round: slow drift of the emulator hits every
# configuration alike instead of whichever ran last.
configs=(untraced floor floor-lookup floor-curtask floor-storage floor-clock floor-calls floor-fsession
	 lpsentinel lpsentinel-probe lpsentinel-probe-fsession lpsentinel-fentry lpsentinel-fsession lpsentinel-signals lpsentinel-kprobe lpsentinel-session
	 lpsentinel-budget lpsentinel-8 lpsentinel-64 watch bpftrace bcc noop-livepatch
	 hot-untraced hot-floor hot-lpsentinel hot-kprobe hot-budget hot-watch-budget probe-bias)
# BENCH_CONFIGS="a b ...": only these (a quick look; the table needs every one)
[[ -n ${BENCH_CONFIGS:-} ]] && read -r -a configs <<<"$BENCH_CONFIGS"
for r in $(seq 0 $((R - 1))); do
	for i in "${!configs[@]}"; do
		one "${configs[$(((i + r) % ${#configs[@]}))]}"
	done
done

# Userspace CPU and peak memory of trace with 64 and 256 functions and 1 s
# intervals, over 20 s each, and of the watch daemon with the 64.
cpu_of() {	# cpu_of NAME COMMAND...
	local name=$1 pid t0 t1; shift
	"$@" >/dev/null 2>"$WORK/cpu.err" &
	pid=$!
	wait_ready "$WORK/cpu.err" 'Tracing|watching' $pid
	t0=$(awk '{print $14 + $15}' /proc/$pid/stat)
	sleep 20
	t1=$(awk '{print $14 + $15}' /proc/$pid/stat)
	hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status)
	stop_tracer $pid
	echo "cpu $name $(( t1 - t0 )) $(getconf CLK_TCK) $hwm" >>"$results"
}
[[ -n ${BENCH_CONFIGS:-} ]] || {
cpu_of trace-64 ./lpsentinel trace "$FN" $(head -n63 "$WORK/idle") -i 1 --json
cpu_of trace-256 ./lpsentinel trace "$FN" $(cat "$WORK/idle") -i 1 --json
cpu_of watch-64 ./lpsentinel watch --state "$WORK/wstate64" --listen 127.0.0.1:9464 --function "$FN" \
	$(head -n63 "$WORK/idle" | sed 's/^/--function /')
}
# How much slower this guest runs plain userspace code than the host: the same
# CPU-bound job timed here and by run-bench.sh on the host.
echo "spin $(tests/bench/spin.sh)" >>"$results"
# What shapes a helper's cost here: the clock source behind bpf_ktime_get_ns
# and the Spectre mitigations of calls and returns.
echo "clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
grep -H . /sys/devices/system/cpu/vulnerabilities/{retbleed,spec_rstack_overflow,spectre_v2} 2>/dev/null |
	sed 's|.*/||' || true

python3 - "$results" "$LPS_RESULTS/bench.json" "$(uname -r)" "$S" <<'PY'
import json, statistics, sys
runs = {}
cpu, spin, secs, selfs, lat = {}, None, {}, {}, None
for line in open(sys.argv[1]):
    k, *v = line.split()
    if k == "cpu":
        cpu[v[0]] = {"cpu_percent": int(v[1]) / int(v[2]) / 20 * 100, "peak_rss_kib": int(v[3])}
        continue
    if k == "probe-latency":	# mean latency the probes recorded: unpatched, patched; calls patched
        lat = v
        continue
    if k == "spin":
        spin = float(v[0])
        continue
    runs.setdefault(k, []).append(float(v[0]))
    secs[k] = float(v[1]) if len(v) > 1 else float(sys.argv[4])
    # the tracer process's own share of the clock in that run
    selfs.setdefault(k, []).append(int(v[2]) / (secs[k] * 1e9) if len(v) > 2 else 0.0)
med = {k: statistics.median(v) for k, v in runs.items()}
if not any(k.endswith("untraced") for k in med):
    print("\n".join(f"{k} {v}" for k, v in runs.items()))
    sys.exit("bench: added_per_call needs an untraced configuration; no bench.json")
# Under -icount one guest ns is one instruction: ns per op counts instructions.
# A configuration is measured against the untraced run and the floor of its own
# workload: "hot-*" ones against hot-untraced and hot-floor (getpid).
def refs(k):
    p = "hot-" if k.startswith("hot-") else ""
    if p + "untraced" not in med:
        return None, None
    base = 1e9 / med[p + "untraced"]
    return base, (1e9 / med[p + "floor"] - base) if p + "floor" in med else None
configs = {}
print(f"{'configuration':<20} {'ops/s (median)':>15} {'ns/op':>8} {'added ns/call':>14} {'x floor':>8} {'vCPU %':>7} {'self %':>7} {'probe %':>7}")
# known configurations in table order, then any other (a new one still shows)
order = ["untraced", "floor", "floor-lookup", "floor-curtask", "floor-storage", "floor-clock",
         "floor-calls", "lpsentinel", "lpsentinel-probe", "lpsentinel-fentry", "lpsentinel-signals",
         "lpsentinel-kprobe", "lpsentinel-session", "lpsentinel-budget", "lpsentinel-8", "lpsentinel-64",
         "watch", "bpftrace", "bcc", "noop-livepatch", "hot-untraced", "hot-floor", "hot-lpsentinel",
         "hot-kprobe", "hot-budget", "hot-watch-budget"]
for k in order + sorted(set(med) - set(order)):
    if k not in med:
        continue
    base_ns, floor_ns = refs(k)
    if base_ns is None:
        print(f"{k:<20} {med[k]:>15.0f}  (no untraced run of its workload: not compared)")
        continue
    ns = 1e9 / med[k]
    added = ns - base_ns
    ratio = added / floor_ns if floor_ns else None
    # cpu_share: what tracing costs the vCPU at this call rate (one
    # instruction is one guest ns): added instructions per call x calls/s.
    # self_share, for the configurations pinned with their tracer to one vCPU
    # (pin above: the budget ones): what the tracer's own process ran there,
    # a share of the clock; probe_share: the rest of the workload's loss, the
    # probes and the kernel's work for them. Elsewhere the process runs on
    # the other vCPU, whose run time is not the workload's loss one for one
    # (round-robin TCG), and neither is given.
    share = max(added, 0) * med[k] / 1e9
    own = statistics.median(selfs[k]) if k.endswith("budget") else None
    configs[k] = {"added_per_call": round(added, 1), "x_floor": None if ratio is None else round(ratio, 3),
                  "cpu_share": round(share, 5),
                  "self_share": None if own is None else round(own, 5),
                  "probe_share": None if own is None else round(share - own, 5),
                  "unit": "instructions",
                  "ns_per_op": round(ns, 1), "ops_per_s": med[k],
                  "runs": runs[k], "seconds_per_run": secs[k]}
    split = "" if own is None else f" {own * 100:>7.2f} {(share - own) * 100:>7.2f}"
    print(f"{k:<20} {med[k]:>15.0f} {ns:>8.0f} {added:>14.0f} {ratio if ratio is not None else float('nan'):>8.2f} "
          f"{share * 100:>7.2f}{split}")
# What a patch does to the probe's own cost: the probes with the patch in,
# less the redirection alone and the probes alone (probe_bias above); and
# what it does to the latency they record, which is what gate and watch judge.
if all(k in configs for k in ("probe-patched", "probe-unpatched", "noop-livepatch")):
    bias = (configs["probe-patched"]["added_per_call"] - configs["noop-livepatch"]["added_per_call"]
            - configs["probe-unpatched"]["added_per_call"])
    ok = lat is not None and lat[0] != "?"
    configs["probe-bias"] = {"added_per_call": round(bias, 1), "x_floor": None, "cpu_share": None,
                             "unit": "instructions",
                             "latency_unpatched": float(lat[0]) if ok else None,
                             "latency_patched": float(lat[1]) if ok else None,
                             "latency_bias": round(float(lat[1]) - float(lat[0]), 1) if ok else None,
                             "calls_patched": int(lat[2]) if ok else 0}
    print(f"probe bias across the no-op patch: {bias:+.0f} instructions per call to the caller; "
          + (f"latency the probes recorded {lat[0]} -> {lat[1]} ({float(lat[1]) - float(lat[0]):+.1f}), "
             f"{lat[2]} calls counted patched" if ok else "latency not read"))
for u in ("untraced", "hot-untraced"):
    if u in runs:
        print(f"{u} spread: min {min(runs[u]):.0f} max {max(runs[u]):.0f} ops/s over {len(runs[u])} runs")
for name, c in cpu.items():
    print(f"{name}, -i 1: userspace CPU {c['cpu_percent']:.2f}% of one core (TCG guest), peak RSS {c['peak_rss_kib']} KiB")
if spin:
    print(f"spin job in the guest: {spin:.2f} s")
# {"<kernel release>": {"<configuration>": {...}, ...}}: run-bench.sh merges the
# kernels' files into build/bench/bench.json. lpsentinel's own CPU and memory
# go beside it, in bench-self.json.
json.dump({sys.argv[3]: configs}, open(sys.argv[2], "w"), indent=1)
json.dump({sys.argv[3]: {"cpu": cpu, "guest_spin_s": spin}},
          open(sys.argv[2].replace("bench.json", "bench-self.json"), "w"), indent=1)
PY
