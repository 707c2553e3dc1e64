#!/usr/bin/env bash
# lpsentinel overhead: what a patch costs per call and in CPU, with the
# redirection calibrated by the shipped no-op patch (calibration/lps_noop.c).
# A patch that burns about 50 us per call must show it, calibrated or not; an
# equivalent one must not; a loaded patch is measured as it is and left
# loaded; every patch overhead loads is taken back out, also on SIGINT.
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
num() { json "$WORK/$1.json" "$2"; }

# The calibration patch is identical where it counts: /proc/version reads the same.
cat /proc/version >"$WORK/version.before"
insmod "$FX/lps_noop.ko"
for ((i = 0; i < 300; i++)); do [[ $(cat /sys/kernel/livepatch/lps_noop/transition) == 0 ]] && break; sleep 0.1; done
cat /proc/version >"$WORK/version.after"
"$LPS" revert lps_noop --unload >/dev/null
cmp -s "$WORK/version.before" "$WORK/version.after" ||
	fail "lps_noop changes /proc/version: $(cat "$WORK/version.before" "$WORK/version.after")"
ok "lps_noop prints the same /proc/version as the original ($(wc -c <"$WORK/version.after") bytes)"

start_gate_workload 1

# The slow patch, calibrated: added time far above the noise, most of it the new code.
"$LPS" overhead "$FX/lp_gate_slow.ko" -d 4 --calibrate "$FX/lps_noop.ko" --json >"$WORK/slow.json" \
	2>"$WORK/slow.err" || { cat "$WORK/slow.err"; fail "overhead lp_gate_slow: exit $?"; }
[[ -e /sys/module/lp_gate_slow || -e /sys/module/lps_noop ]] && fail "overhead left a patch loaded"
read -r added ci code per cpu redir rci pvis action < <(num slow "' '.join(str(x) for x in (
	d['functions'][0]['added_ns'], d['functions'][0]['added_ns_ci95'], d['functions'][0]['code_ns'],
	d['functions'][0]['per_call_ns'], d['functions'][0]['cpu_share'], d['calibration']['redirection_ns'],
	d['calibration']['redirection_ns_ci95'], d['calibration']['probe_visible_ns'],
	d['action'].replace(' ', '_')))")
python3 - "$added" "$ci" "$code" "$per" "$cpu" "$redir" "$rci" "$pvis" <<'PY' || fail "lp_gate_slow: $(cat "$WORK/slow.json")"
import sys
added, ci, code, per, cpu, redir, rci, pvis = map(float, sys.argv[1:])
assert added > 20000 and ci < added / 2, "added time not seen"
# Under emulation the caller-timed redirection reads several us (20 us once
# on 6.1: the ftrace path with a livepatch and a trampoline emulates slowly);
# it must stay well below what 50 us of busy work adds.
assert abs(redir) < added / 2 and rci > 0, "redirection implausible"
assert abs(code - (added - pvis)) < 1e-6 and abs(per - (code + redir)) < 1e-6, "split wrong"
assert cpu > 0, "CPU share"
PY
[[ $action == taken_back_out ]] || fail "lp_gate_slow: action $action"
ok "lp_gate_slow: +$(printf %.0f "$added") ns per call (± $(printf %.0f "$ci")), redirection $(printf %.0f "$redir") ns (± $(printf %.0f "$rci")) timed by the caller, $(printf %.0f "$pvis") ns seen by the probes, $(python3 -c "print('%.2f' % ($cpu * 100))")% of a CPU"

# The equivalent patch: no added time of that size.
"$LPS" overhead "$FX/lp_gate_ok.ko" -d 4 --json >"$WORK/ok.json" 2>"$WORK/ok.err" ||
	{ cat "$WORK/ok.err"; fail "overhead lp_gate_ok: exit $?"; }
okadd=$(num ok "d['functions'][0]['added_ns']")
# Emulator drift between the windows reached 13 us on a loaded lab host: the
# bound is relative to what the slow patch showed in the same run.
python3 -c "import sys; sys.exit(abs($okadd) >= max(20000, $added / 3))" || fail "lp_gate_ok: added $okadd ns (slow: $added)"
[[ $(num ok "d['calibration'], d['cpu_share_of']") == "(None, 'the whole patch')" ]] ||
	fail "lp_gate_ok: $(cat "$WORK/ok.json")"
ok "lp_gate_ok: $(printf %.0f "$okadd") ns per call, not a regression's size"

# A loaded patch: measured as it runs, the redirection's CPU share from the calibration; left loaded.
insmod "$FX/lp_gate_uptime.ko"
"$LPS" overhead lp_gate_uptime -d 3 --calibrate "$FX/lps_noop.ko" >"$WORK/up.txt" 2>"$WORK/up.err" ||
	{ cat "$WORK/up.err"; fail "overhead lp_gate_uptime (loaded): exit $?"; }
[[ -e /sys/kernel/livepatch/lp_gate_uptime ]] || fail "overhead took a patch it did not load out"
grep -q "uptime_proc_show: .* calls/s, no measurement before the patch" "$WORK/up.txt" &&
	grep -q "of a CPU for the redirection" "$WORK/up.txt" || { cat "$WORK/up.txt"; fail "loaded patch report"; }
"$LPS" revert lp_gate_uptime --unload >/dev/null
ok "loaded patch measured as it runs and left loaded: $(grep uptime_proc_show "$WORK/up.txt")"

# SIGINT while observing the loaded patch: taken back out, exit 1, one line.
"$LPS" overhead "$FX/lp_gate_ok.ko" -d 6 >"$WORK/int.txt" 2>"$WORK/int.err" &
pid=$!
for ((i = 0; i < 600; i++)); do [[ -e /sys/kernel/livepatch/lp_gate_ok ]] && break; sleep 0.1; done
sleep 1
kill -INT $pid
rc=0; wait $pid || rc=$?
[[ $rc == 1 && ! -e /sys/module/lp_gate_ok ]] || { cat "$WORK/int.err"; fail "SIGINT: exit $rc, module $(ls -d /sys/module/lp_gate_ok 2>&1)"; }
[[ $(grep -c error "$WORK/int.err") == 1 ]] || { cat "$WORK/int.err"; fail "SIGINT: not one error line"; }
ok "SIGINT while measuring: exit 1, patch taken back out: $(cat "$WORK/int.err")"

# Bad input: one line, exit 1 (2 for usage), nothing loaded.
head -c 4096 /dev/urandom >"$WORK/junk.ko"
for args in "/nonexistent/x.ko" "$WORK/junk.ko" "no_such_patch" \
	"$FX/lp_gate_ok.ko --calibrate $FX/lps_busy.ko" "$FX/lp_gate_ok.ko --calibrate $FX/lp_gate_two.ko"; do
	rc=0
	# shellcheck disable=SC2086
	"$LPS" overhead $args -d 1 >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
	[[ $rc == 1 && $(wc -l <"$WORK/bad.err") == 1 ]] || { cat "$WORK/bad.err"; fail "overhead $args: exit $rc"; }
	[[ -e /sys/module/lp_gate_ok ]] && fail "overhead $args left lp_gate_ok loaded"
done
rc=0; "$LPS" overhead -d x a.ko 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "bad -d: exit $rc, want 2"
ok "bad input: one line, exit 1, nothing left loaded"
