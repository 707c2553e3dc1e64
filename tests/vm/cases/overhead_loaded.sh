#!/usr/bin/env bash
# lpsentinel overhead, the rest of it (overhead.sh has the measured costs): a
# loaded patch is measured as it is and left loaded; every patch overhead
# loads is taken back out, also on SIGINT; bad input is one line, exit 1 (2
# for usage), nothing loaded.
# Not exclusive: what is checked here is what the report says and what is left
# loaded, not the size of any time, so host load cannot change it.
# One kernel: the loads, reverts and unloads it goes through are proven on
# every kernel by gate_revert.sh; what is left here is the
# verb's own bookkeeping and input handling. It took 302 s on 6.12 in the
# last full run, 155 s here.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
FX=build/fixtures/$LPS_KREL
start_gate_workload 1

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
