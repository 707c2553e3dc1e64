#!/usr/bin/env bash
# lpsentinel overhead: what a patch costs per call and in CPU, with the
# redirection calibrated by the shipped no-op patch (calibration/lps_noop.c).
# A patch that burns about 50 us per call must show it, calibrated or not; an
# equivalent one must not. (A loaded patch measured as it is, SIGINT and bad
# input: overhead_loaded.sh.)
# Exclusive: it asserts measured times, the slow patch's added time against
# its own confidence interval and the equivalent patch's against the slow
# one's (emulator drift between windows reached 13 us on a loaded host).
# vm-exclusive: yes
# One kernel (6.1): it is exclusive, and the patch's cost it measures is the
# same code on every kernel (overhead_loaded.sh is on 6.1 too); the loads,
# probes, reverts and unloads it passes through are gate's, proven on each
# kernel by gate_revert.sh. On 6.12 it took 267 s alone in the last full run.
# vm-kernels: 6.1.*
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
py - "$added" "$ci" "$code" "$per" "$cpu" "$redir" "$rci" "$pvis" <<'PY' || fail "lp_gate_slow: $(cat "$WORK/slow.json")"
import sys
added, ci, code, per, cpu, redir, rci, pvis = map(float, sys.argv[1:])
assert added > 20000 and ci < added / 2, "added time not seen"
# Under emulation the caller-timed redirection reads several us (20 us once
# on 6.1: the ftrace path with a livepatch and a trampoline emulates slowly);
# it must stay well below what 50 us of busy work adds, or say that it could:
# its confidence interval must reach below that. (A calibration round on a
# stalling TCG guest read -232 us +- 1046 us on 6.1 in CI: a figure that says
# it knows nothing, and says so.)
assert abs(redir) - rci < added / 2 and rci > 0, "redirection implausible"
assert abs(code - (added - pvis)) < 1e-6 and abs(per - (code + redir)) < 1e-6, "split wrong"
assert cpu > 0, "CPU share"
PY
[[ $action == taken_back_out ]] || fail "lp_gate_slow: action $action"
ok "lp_gate_slow: +$(printf %.0f "$added") ns per call (± $(printf %.0f "$ci")), redirection $(printf %.0f "$redir") ns (± $(printf %.0f "$rci")) timed by the caller, $(printf %.0f "$pvis") ns seen by the probes, $(py -c "print('%.2f' % ($cpu * 100))")% of a CPU"

# The equivalent patch: no added time of that size.
"$LPS" overhead "$FX/lp_gate_ok.ko" -d 4 --json >"$WORK/ok.json" 2>"$WORK/ok.err" ||
	{ cat "$WORK/ok.err"; fail "overhead lp_gate_ok: exit $?"; }
okadd=$(num ok "d['functions'][0]['added_ns']")
# Emulator drift between the windows reached 13 us on a loaded lab host: the
# bound is relative to what the slow patch showed in the same run.
py -c "import sys; sys.exit(abs($okadd) >= max(20000, $added / 3))" || fail "lp_gate_ok: added $okadd ns (slow: $added)"
[[ $(num ok "d['calibration'], d['cpu_share_of']") == "(None, 'the whole patch')" ]] ||
	fail "lp_gate_ok: $(cat "$WORK/ok.json")"
ok "lp_gate_ok: $(printf %.0f "$okadd") ns per call, not a regression's size"
