#!/usr/bin/env bash
# trace's health signals: lock contention begun inside a traced function (a
# livepatch that holds a spinlock, fixture lp_gate_lock) and system-wide, the
# run queue, kernel page faults inside a traced function; --no-signals leaves
# them out. Four vCPUs: see gate_signals.sh for why.
# vm-smp: 4
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
insmod $FX/lp_gate_lock.ko
start_gate_workload 4
for _ in $(seq 1 100); do [[ $(cat /sys/kernel/livepatch/lp_gate_lock/transition 2>/dev/null) == 0 ]] && break; sleep 0.1; done

start_trace t version_proc_show bprm_execve -d 6 --json
for _ in $(seq 1 10); do /bin/true; done
wait "$TRACE_PID" || { cat "$WORK/t.err"; fail "trace failed"; }
py - "$WORK/t.out" <<'PY' || { cat "$WORK/t.out"; fail "trace signals"; }
import json, sys
d = json.load(open(sys.argv[1]))
f = {x["function"]: x for x in d["functions"]}
v, e, s = f["version_proc_show"], f["bprm_execve"], d["system"]
assert v["lock_contentions"] > 0 and v["lock_wait_ns"] > 0, v
assert s["lock_contentions"] >= v["lock_contentions"], s
assert s["runqueue"]["calls"] > 0, s["runqueue"]
assert e["calls"] >= 1 and e["page_faults"] > 0, e
print(f"ok: trace signals: version_proc_show {v['lock_contentions']} contentions "
      f"({v['lock_wait_ns'] / 1e6:.1f} ms), system {s['lock_contentions']}; "
      f"bprm_execve {e['page_faults']} page faults in {e['calls']} calls; "
      f"run queue p50 {s['runqueue']['p50_ns'] / 1e3:.1f} us over {s['runqueue']['calls']} waits")
PY

LPS_TEST_LOCK_RAW_TP=1 "$LPS" trace version_proc_show -d 4 --json >"$WORK/r.json" 2>"$WORK/r.err" || fail "trace with raw_tp"
[[ $(json "$WORK/r.json" "(d['system']['lock_probes'], d['functions'][0]['lock_contentions'] > 0)") == "('raw_tp', True)" ]] ||
	fail "raw_tp fallback: $(json "$WORK/r.json" "d['system']")"
ok "raw tracepoint fallback: $(json "$WORK/r.json" "d['functions'][0]['lock_contentions']") contentions inside version_proc_show"

"$LPS" trace version_proc_show -d 2 --no-signals --json >"$WORK/n.json" 2>"$WORK/n.err" || fail "trace --no-signals"
py -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "system" not in d and "lock_contentions" not in d["functions"][0], d' "$WORK/n.json" ||
	fail "--no-signals still reports signals"
ok "--no-signals: latency, calls and errors only"
rmmod_wait() { echo 0 >/sys/kernel/livepatch/lp_gate_lock/enabled; for _ in $(seq 1 300); do [[ -e /sys/kernel/livepatch/lp_gate_lock ]] || break; sleep 0.1; done; rmmod lp_gate_lock; }
rmmod_wait
