#!/usr/bin/env bash
# Exact call counts in every attach mode: the workload reads /proc/version N
# times; version_proc_show must have been called exactly N times, no more, no
# less, with every latency recorded, and all modes must agree. kprobe sessions
# (6.10 to 6.19) and tracing sessions (fsession, 7.0+) where the kernel has
# them; elsewhere asking for one is one clear error.
# Where the kernel skipped probe runs (7.2: a probe preempted on that CPU), the
# skipped entries still count as calls, and only their latencies are lost.
# On sid's kernel too: exact counts through BTF, CO-RE, fentry and kprobes
# are the first thing a new kernel can break (docs/lab.md).
# vm-sid: yes
. "$(dirname "$0")/lib.sh"

N=2000
modes=(fentry kprobe auto)
if has_ksession; then
	modes+=(kprobe-session)
else
	rc=0
	"$LPS" trace version_proc_show --mode kprobe-session --duration 1 >"$WORK/ks.out" 2>"$WORK/ks.err" || rc=$?
	[[ $rc == 1 ]] || fail "--mode kprobe-session on $(uname -r): exit $rc, want 1"
	[[ $(wc -l <"$WORK/ks.err") == 1 ]] || { cat "$WORK/ks.err"; fail "--mode kprobe-session: not one error line"; }
	grep -q "no kprobe session programs" "$WORK/ks.err" || { cat "$WORK/ks.err"; fail "--mode kprobe-session: error does not say why"; }
	ok "--mode kprobe-session refused on $(uname -r): $(cat "$WORK/ks.err")"
fi
if has_fsession; then
	modes+=(fsession)
else
	rc=0
	"$LPS" trace version_proc_show --mode fsession --duration 1 >"$WORK/fs.out" 2>"$WORK/fs.err" || rc=$?
	[[ $rc == 1 && $(wc -l <"$WORK/fs.err") == 1 ]] || { cat "$WORK/fs.err"; fail "--mode fsession on $(uname -r): exit $rc, want 1 and one line"; }
	grep -q "no tracing session programs" "$WORK/fs.err" || { cat "$WORK/fs.err"; fail "--mode fsession: error does not say why"; }
	ok "--mode fsession refused on $(uname -r): $(cat "$WORK/fs.err")"
fi
for mode in "${modes[@]}"; do
	start_trace "$mode" version_proc_show --mode "$mode" --json
	"$LPLOAD" --file /proc/version --procs 4 --count $N >"$WORK/load.$mode"
	stop_trace
	out="$WORK/$mode.out"
	calls=$(fn_field "$out" version_proc_show calls)
	recorded=$(fn_field "$out" version_proc_show recorded)
	attach=$(fn_field "$out" version_proc_show attach)
	[[ $(lpload_field "$WORK/load.$mode" ops) == "$N" ]] || fail "lpload did not do $N ops"
	skipped=$(json "$out" "d['functions'][0]['skipped_entries'] + d['functions'][0]['skipped_returns']")
	[[ $calls == "$N" ]] || fail "$mode: calls=$calls, want exactly $N (skipped runs: $skipped)"
	((recorded <= N && recorded >= N - skipped)) ||
		fail "$mode: recorded=$recorded latencies, want $N less at most the $skipped skipped runs"
	[[ $(fn_field "$out" version_proc_show errors) == 0 ]] || fail "$mode: errors on a function that cannot fail"
	[[ $(fn_field "$out" version_proc_show verified) == True ]] || fail "$mode: probe not verified"
	p50=$(fn_field "$out" version_proc_show p50_ns)
	p99=$(fn_field "$out" version_proc_show p99_ns)
	max=$(fn_field "$out" version_proc_show max_ns)
	py -c "import sys; p50,p99,mx=map(float,sys.argv[1:]); sys.exit(not (0 < p50 <= p99 <= mx))" \
		"$p50" "$p99" "$max" || fail "$mode: percentiles out of order: p50=$p50 p99=$p99 max=$max"
	[[ $mode == auto ]] && [[ $attach != fentry ]] && fail "auto chose $attach on an unpatched function with BTF"
	[[ $mode != auto ]] && [[ $attach != "${mode//-/_}" ]] && fail "--mode $mode attached $attach"
	ok "$mode: $calls calls of $N ($skipped probe runs skipped by the kernel), p50=${p50%.*}ns p99=${p99%.*}ns"
done

# --self-cost: BPF statistics while tracing (at least the entry and exit
# programs for each call, and not counted for programs beyond ours) and the
# probe floor, measured on bpf_fentry_test1 in both methods.
sc_modes=(fentry kprobe)
has_ksession && sc_modes+=(kprobe-session)
has_fsession && sc_modes+=(fsession)
for mode in "${sc_modes[@]}"; do
	start_trace "sc-$mode" version_proc_show --mode "$mode" --self-cost --no-signals --json
	"$LPLOAD" --file /proc/version --procs 2 --count $N >/dev/null
	stop_trace
	out="$WORK/sc-$mode.out"
	sc=$(json "$out" "d['functions'][0]['self_cost']")
	summary=$(py - "$out" "$mode" "$N" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); mode = sys.argv[2].replace("-", "_"); n = int(sys.argv[3])
f, top = d["functions"][0], d["self_cost"]
assert f["calls"] == n and top["bpf_stats"] is True
sc = f["self_cost"]
assert 2 * n <= sc["bpf_runs"] <= 3 * n + 64, "runs per call"
assert sc["bpf_run_ns"] > 0 and sc["bpf_ns_per_call"] > 0
fl = top["probe_floor"][mode]
assert fl["function"] == "bpf_fentry_test1" and fl["calls"] == 2000, fl
assert 0 < fl["mean_ns"] < f["mean_ns"], (fl, f["mean_ns"])
assert abs(sc["mean_net_ns"] - (f["mean_ns"] - fl["mean_ns"])) < 1e-6
print("%d BPF runs for %d calls, %.0f ns of BPF per call; floor %.0f ns mean over %d calls"
      % (sc["bpf_runs"], f["calls"], sc["bpf_ns_per_call"], fl["mean_ns"], fl["calls"]))
PY
) || fail "--self-cost $mode: $sc; $(json "$out" "d['self_cost']")"
	ok "--self-cost $mode: $summary"
done

# Auto without signals (nothing reads the per-task stack): a tracing session
# where the kernel has them, fentry elsewhere.
want=fentry
has_fsession && want=fsession
"$LPS" trace version_proc_show --no-signals --duration 1 --json >"$WORK/ns.out" 2>"$WORK/ns.err" ||
	{ cat "$WORK/ns.err"; fail "auto --no-signals failed"; }
attach=$(fn_field "$WORK/ns.out" version_proc_show attach)
[[ $attach == "$want" ]] || fail "auto --no-signals attached $attach on $(uname -r), want $want"
ok "auto --no-signals: $attach"

# kprobe mode made a tracefs kretprobe event; it must be gone after exit.
if grep -q lpsentinel /sys/kernel/tracing/kprobe_events; then
	cat /sys/kernel/tracing/kprobe_events
	fail "tracefs kretprobe events left behind"
fi
ok "no kprobe events left behind"
