#!/usr/bin/env bash
# inspect reads from the .ko file what the kernel shows in sysfs once the patch
# is loaded; status --follow reports patches appearing, settling and going,
# atomic replace included.
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
SYS=/sys/kernel/livepatch

wait_settled() {
	for _ in $(seq 1 300); do
		[[ -e $SYS/$1/transition && $(cat $SYS/$1/transition) == 0 ]] && return 0
		sleep 0.1
	done
	fail "$1: transition did not finish"
}

insmod $FX/lps_busy.ko	# lp_busy patches a function of this module
for p in lp_cmdline lp_cmdline2 lp_multi lp_repl_a lp_repl_b lp_busy; do
	"$LPS" inspect --json $FX/$p.ko >"$WORK/before.json" || fail "inspect $p"
	insmod $FX/$p.ko
	wait_settled $p
	"$LPS" inspect --json $FX/$p.ko >"$WORK/after.json" || fail "inspect $p (loaded)"
	"$LPS" status --json >"$WORK/st.json"
	py - "$WORK/before.json" "$WORK/after.json" "$WORK/st.json" "$p" <<'PY' || fail "inspect of $p does not match sysfs"
import json, sys
before, after, st, name = (json.load(open(a)) for a in sys.argv[1:4]), None, None, sys.argv[4]
before, after, st = [json.load(open(a)) for a in sys.argv[1:4]]
assert before["patch"] == name, before
sysfs = [x for x in st["patches"] if x["patch"] == name][0]
want = sorted((o["object"], f["function"], f["sympos"]) for o in sysfs["objects"] for f in o["functions"])
# sysfs shows sympos 0 ("the only one") as 1
got = sorted((f["object"], f["function"], f["sympos"] or 1) for f in before["functions"])
assert got == want, (got, want)
for f in before["functions"]:
    assert f["exists"] and f["traceable"], f
    assert f["attach"] in ("fentry", "kprobe"), f
for f in after["functions"]:
    # once patched, trace must not use fentry on it (docs/kernel-facts.md)
    assert f["attach"] == "kprobe", f
if sysfs["replace"] is not None:
    assert sysfs["replace"] == before["replace"], (sysfs["replace"], before["replace"])
print("  ", name, got, "replace", before["replace"])
PY
	"$LPS" revert $p --unload >/dev/null || fail "revert $p"
	ok "inspect $p matches sysfs"
done
rmmod lps_busy

"$LPS" status --follow --json >"$WORK/follow" 2>"$WORK/follow.err" &
fpid=$!
sleep 1
# follow_saw EVENT PATCH: waits (up to 30 s) until status --follow reported it,
# instead of a fixed pause; the checks below say what is missing, if anything.
follow_saw() {
	local end=$((SECONDS + 30))
	while ((SECONDS < end)) && ! file_has "$WORK/follow" "{\"event\":\"$1\",\"patch\":\"$2\""; do nap 0.1; done
}
insmod $FX/lp_repl_a.ko; wait_settled lp_repl_a
insmod $FX/lp_repl_b.ko; wait_settled lp_repl_b
for _ in $(seq 1 50); do [[ -e $SYS/lp_repl_a ]] || break; sleep 0.1; done
follow_saw settled lp_repl_b
follow_saw gone lp_repl_a
"$LPS" revert lp_repl_b --unload >/dev/null || fail "revert lp_repl_b"
rmmod lp_repl_a
follow_saw gone lp_repl_b
kill -INT $fpid; wait $fpid || fail "status --follow exited with $?"
py - "$WORK/follow" <<'PY' || { cat "$WORK/follow" "$WORK/follow.err"; fail "follow events"; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
seq = [(e["event"], e["patch"]) for e in ev]
print("  ", seq)
def at(x):
    assert x in seq, (x, seq)
    return seq.index(x)
assert at(("appeared", "lp_repl_a")) < at(("settled", "lp_repl_a")) < at(("appeared", "lp_repl_b"))
assert at(("appeared", "lp_repl_b")) < at(("settled", "lp_repl_b")) < at(("gone", "lp_repl_b"))
gone_a = [e for e in ev if e["event"] == "gone" and e["patch"] == "lp_repl_a"][0]
b = ev[at(("appeared", "lp_repl_b"))]["state"]
# kernels with the replace attribute (6.11+) let us name the replacer
want = "lp_repl_b" if b["replace"] is not None else None
assert gone_a["replaced_by"] == want, (gone_a, want)
fns = [f["function"] for o in b["objects"] for f in o["functions"]]
assert sorted(fns) == ["uptime_proc_show", "version_proc_show"], fns
print("   lp_repl_a replaced_by:", gone_a["replaced_by"])
PY
ok "status --follow: appeared/settled/gone in order, atomic replace seen"
