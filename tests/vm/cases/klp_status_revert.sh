#!/usr/bin/env bash
# status and revert against real livepatches: single, multi-function, stacked,
# atomic replace, and a transition stalled by a task parked in the patched
# function (patching and unpatching).
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
SYS=/sys/kernel/livepatch

wait_settled() {	# wait_settled PATCH: its transition finished
	for _ in $(seq 1 300); do
		[[ -e $SYS/$1/transition && $(cat $SYS/$1/transition) == 0 ]] && return 0
		sleep 0.1
	done
	fail "$1: transition did not finish"
}
status_json() { "$LPS" status --json >"$WORK/st.json" || fail "status failed"; }
# wait_parked PID: the task is asleep in lps_busy_park (or lp_busy's
# replacement of it); gives up after 30 s and lets the checks that follow say what is wrong.
wait_parked() {
	local end=$((SECONDS + 30))
	while ((SECONDS < end)) && ! file_has "/proc/$1/stack" busy_park; do nap 0.1; done
}

# No patch loaded yet
[[ $("$LPS" status) == "no livepatches loaded" ]] || fail "status on an empty kernel"

# 1. single function
insmod $FX/lp_cmdline.ko; wait_settled lp_cmdline
status_json
py - "$WORK/st.json" <<'PY' || fail "status of lp_cmdline"
import json, sys
p = json.load(open(sys.argv[1]))["patches"]
assert [x["patch"] for x in p] == ["lp_cmdline"], p
o = p[0]["objects"]
assert p[0]["enabled"] and not p[0]["transition"], p
assert o[0]["object"] == "vmlinux" and o[0]["functions"] == [{"function": "cmdline_proc_show", "sympos": 1}], o
PY
ok "status: single-function patch"

# 2. multi-function, 3. stacked on lp_cmdline
insmod $FX/lp_multi.ko; wait_settled lp_multi
insmod $FX/lp_cmdline2.ko; wait_settled lp_cmdline2
grep -q lp_cmdline2 /proc/cmdline || fail "lp_cmdline2 not on top"
status_json
py - "$WORK/st.json" <<'PY' || fail "status of multi and stacked patches"
import json, sys
p = {x["patch"]: x for x in json.load(open(sys.argv[1]))["patches"]}
assert sorted(p) == ["lp_cmdline", "lp_cmdline2", "lp_multi"], list(p)
fns = sorted(f["function"] for f in p["lp_multi"]["objects"][0]["functions"])
assert fns == ["loadavg_proc_show", "version_proc_show"], fns
# the last enabled patch is on top of the stack
assert p["lp_cmdline2"]["stack_order"] > p["lp_multi"]["stack_order"] > p["lp_cmdline"]["stack_order"], p
PY
ok "status: multi-function patch and stack order"

"$LPS" revert lp_cmdline2 --unload >"$WORK/rv" || fail "revert lp_cmdline2"
grep -q "lp_cmdline: patched" /proc/cmdline || fail "lp_cmdline not back on top after reverting lp_cmdline2"
[[ -e /sys/module/lp_cmdline2 ]] && fail "lp_cmdline2 still loaded after --unload"
ok "revert of the top of a stack: $(cat "$WORK/rv"); lp_cmdline active again"

for p in lp_multi lp_cmdline; do "$LPS" revert $p --unload >/dev/null || fail "revert $p"; done
grep -q "lp_cmdline" /proc/cmdline && fail "cmdline still patched"
rc=0; "$LPS" revert lp_cmdline 2>"$WORK/e" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/e") == 1 ]] || fail "revert of an absent patch: rc=$rc"
ok "revert of an absent patch: $(cat "$WORK/e")"

# 4. atomic replace: b takes a's place
insmod $FX/lp_repl_a.ko; wait_settled lp_repl_a
insmod $FX/lp_repl_b.ko; wait_settled lp_repl_b
for _ in $(seq 1 50); do [[ -e $SYS/lp_repl_a ]] || break; sleep 0.1; done
status_json
py - "$WORK/st.json" <<'PY' || fail "status after atomic replace"
import json, sys
p = json.load(open(sys.argv[1]))["patches"]
assert [x["patch"] for x in p] == ["lp_repl_b"], [x["patch"] for x in p]
assert p[0]["replace"] in (True, None), p[0]  # None: kernel without the attribute
PY
grep -q lp_repl_b /proc/uptime || fail "lp_repl_b not active"
rmmod lp_repl_a || fail "replaced module lp_repl_a should be removable"
"$LPS" revert lp_repl_b --unload >/dev/null || fail "revert lp_repl_b"
ok "atomic replace: lp_repl_b replaced lp_repl_a"

# 5. stalled transitions
insmod $FX/lps_busy.ko
# --unload takes out livepatch modules only: lps_busy is the module lp_busy patches
rc=0; "$LPS" revert lps_busy --unload >/dev/null 2>"$WORK/e" || rc=$?
[[ -e /sys/module/lps_busy ]] || fail "revert --unload removed lps_busy, which is not a livepatch"
[[ $rc == 1 && $(wc -l <"$WORK/e") == 1 ]] && grep -q "not a livepatch module" "$WORK/e" ||
	{ cat "$WORK/e"; fail "revert --unload of a module that is not a livepatch: rc=$rc"; }
ok "revert --unload of a module that is not a livepatch: $(cat "$WORK/e")"
bash -c 'echo 1 > /proc/lps_busy' &
parked=$!
wait_parked $parked
insmod $FX/lp_busy.ko
sleep 2
[[ $(cat $SYS/lp_busy/transition) == 1 ]] || fail "patching did not stall with a parked task"
status_json
py - "$WORK/st.json" "$parked" <<'PY' || fail "status of a stalled patching transition"
import json, sys
p = json.load(open(sys.argv[1]))["patches"][0]
t = p["transition_info"]
assert p["transition"] and t["direction"] == "patching", p
pids = [b["pid"] for b in t["blockers"]]
assert int(sys.argv[2]) in pids, (pids, sys.argv[2])
b = [b for b in t["blockers"] if b["pid"] == int(sys.argv[2])][0]
assert "lps_busy_park" in b["stack"], b["stack"]
assert t["elapsed_s"] is not None and t["elapsed_s"] >= 1, t
PY
ok "status: stalled patching transition, blocker pid $parked parked in lps_busy_park"
echo 0 >/proc/lps_busy; wait $parked
wait_settled lp_busy

# unpatch stalled by a task parked in the replacement
bash -c 'echo 1 > /proc/lps_busy' &
parked=$!
wait_parked $parked
rc=0
"$LPS" revert lp_busy --timeout 3 >"$WORK/stall.out" 2>"$WORK/stall.err" || rc=$?
[[ $rc == 1 ]] || fail "stalled revert: exit $rc, want 1"
[[ $(wc -l <"$WORK/stall.err") == 1 ]] || { cat "$WORK/stall.err"; fail "stalled revert: want one stderr line"; }
grep -q "pid $parked " "$WORK/stall.out" || { cat "$WORK/stall.out"; fail "blocker not reported"; }
grep -q "lp_busy_park" "$WORK/stall.out" || fail "blocker stack does not show the replacement"
[[ -e $SYS/lp_busy ]] || fail "kernel state changed: the patch is gone"
ok "stalled revert timed out cleanly: $(cat "$WORK/stall.err")"
echo 0 >/proc/lps_busy; wait $parked
"$LPS" revert lp_busy --timeout 30 --unload >"$WORK/rv" || fail "revert after release"
[[ -e /sys/module/lp_busy ]] && fail "lp_busy still loaded"
ok "after the blocker left: $(cat "$WORK/rv")"

# --force: the only way 'force' is written; says what it costs
insmod $FX/lp_busy.ko; wait_settled lp_busy
bash -c 'echo 1 > /proc/lps_busy' &
parked=$!
wait_parked $parked
"$LPS" revert lp_busy --timeout 2 --force --unload >"$WORK/force.out" 2>"$WORK/force.err" ||
	{ cat "$WORK/force.err"; fail "forced revert failed"; }
grep -q "can never be removed" "$WORK/force.err" || fail "forced revert does not say what it costs"
[[ -e $SYS/lp_busy ]] && fail "forced revert left the patch"
[[ -e /sys/module/lp_busy ]] || fail "a forced patch module should stay loaded"
echo 0 >/proc/lps_busy; wait $parked
ok "forced revert: $(tail -1 "$WORK/force.out")"
