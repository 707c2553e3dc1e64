#!/usr/bin/env bash
# gate when things go wrong: a patch the kernel refuses to load leaves nothing
# behind; a stalled transition is reported with its blockers and reverted;
# SIGINT and a workload that stops make it revert; a malformed rules file is
# refused before anything is loaded.
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
start_gate_workload

# A patch whose pre-patch callback refuses: the load fails, nothing remains.
rc=0; "$LPS" gate "$FX/lp_gate_refuse.ko" --baseline 2 --observe 2 >"$WORK/refuse.out" 2>"$WORK/refuse.err" || rc=$?
[[ $rc == 1 && $(grep -c "error:" "$WORK/refuse.err") == 1 ]] || { cat "$WORK/refuse.err"; fail "refused load: rc=$rc"; }
grep -q "refused to load it: Device or resource busy (kernel: .*pre-patch callback failed.*); nothing was left behind" "$WORK/refuse.err" ||
	fail "refused load message: $(cat "$WORK/refuse.err")"
[[ -e /sys/module/lp_gate_refuse || -e /sys/kernel/livepatch/lp_gate_refuse ]] && fail "refused patch left behind"
ok "patch refused by the kernel: $(grep "error:" "$WORK/refuse.err")"

# A task parked in the function the patch replaces stalls the transition: the
# gate names it with its stack, reverses the transition and unloads.
insmod $FX/lps_busy.ko
bash -c 'echo 1 > /proc/lps_busy' &
parked=$!
printf 'defaults:\n  transition_timeout_s: 5\n' >"$WORK/stall.yaml"
rc=0; timeout 120 "$LPS" gate "$FX/lp_busy.ko" --baseline 1 --observe 2 --rules "$WORK/stall.yaml" --json \
	--html "$WORK/stall.html" >"$WORK/stall.json" 2>"$WORK/stall.err" || rc=$?
[[ $rc == 3 ]] || { cat "$WORK/stall.err" "$WORK/stall.json"; dmesg | grep livepatch | tail; fail "stalled gate: exit $rc, want 3"; }
gate_html_ok stall
py - "$WORK/stall.json" "$parked" <<'PY' || fail "stalled gate report"
import json, sys
d = json.load(open(sys.argv[1])); parked = int(sys.argv[2])
assert (d["verdict"], d["action"]) == ("fail", "reverted"), d
c = d["system"]["checks"][0]
assert c["check"] == "transition" and c["result"] == "fail" and "stalled" in c["detail"], c
bl = d["system"]["stalled_transition"]["transition_info"]["blockers"]
assert any(b["pid"] == parked and "lps_busy_park" in (b["stack"] or "") for b in bl), bl
PY
[[ -e /sys/module/lp_busy ]] && fail "stalled patch left loaded"
echo 0 >/proc/lps_busy; wait $parked
rmmod lps_busy
ok "stalled transition reverted: $(json "$WORK/stall.json" "d['system']['checks'][0]['detail']")"

# SIGINT while observing: revert, unload, exit 1 saying so
"$LPS" gate "$FX/lp_gate_ok.ko" --baseline 2 --observe 60 >"$WORK/int.out" 2>"$WORK/int.err" &
g=$!
for _ in $(seq 1 1200); do grep -q "patched; observing" "$WORK/int.err" && break; sleep 0.1; done
sleep 2
kill -INT $g
rc=0; wait $g || rc=$?
[[ $rc == 1 ]] || { cat "$WORK/int.err" "$WORK/int.out"; fail "interrupted gate: exit $rc, want 1"; }
grep -q "interrupted while observing; the patch was reverted" "$WORK/int.err" || fail "interrupted gate: $(cat "$WORK/int.err")"
[[ -e /sys/module/lp_gate_ok ]] && fail "interrupted gate left the module loaded"
ok "SIGINT while observing: $(tail -1 "$WORK/int.err")"

# the workload stops while observing: revert rather than keep an unjudged patch
"$LPS" gate "$FX/lp_gate_ok.ko" --baseline 3 --observe 60 >"$WORK/stop.out" 2>"$WORK/stop.err" &
g=$!
for _ in $(seq 1 1200); do grep -q "patched; observing" "$WORK/stop.err" && break; sleep 0.1; done
sleep 2
pkill -x lpload; wait "${LPLOAD_PIDS[@]}" 2>/dev/null || true	# the workers too, not just the parents
rc=0; wait $g || rc=$?
[[ $rc == 1 ]] || { cat "$WORK/stop.err" "$WORK/stop.out"; fail "stopped workload: exit $rc, want 1"; }
grep -q "calls stopped while observing" "$WORK/stop.err" || fail "stopped workload: $(cat "$WORK/stop.err")"
grep -q "^gate lp_gate_ok: inconclusive, reverted" "$WORK/stop.out" || fail "stopped workload: $(head -1 "$WORK/stop.out")"
[[ -e /sys/module/lp_gate_ok ]] && fail "stopped workload left the module loaded"
ok "workload stopped while observing: reverted ($(tail -1 "$WORK/stop.err"))"

printf 'defaults:\n  baseline_s: 4\n  colour: red\n' >"$WORK/bad.yaml"
rc=0; "$LPS" gate "$FX/lp_gate_ok.ko" --rules "$WORK/bad.yaml" 2>"$WORK/bad.err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/bad.err") == 1 ]] || fail "bad rules: rc=$rc"
grep -q "bad.yaml:3: unknown setting 'colour'" "$WORK/bad.err" || fail "bad rules message: $(cat "$WORK/bad.err")"
[[ -e /sys/module/lp_gate_ok ]] && fail "module loaded despite bad rules"
ok "malformed rules refused before loading: $(cat "$WORK/bad.err")"
