#!/usr/bin/env bash
# watch follows module load and unload. The kernel's own livepatch test module
# test_klp_callbacks_demo patches busymod_work_func of test_klp_callbacks_busy:
# loaded while that module is not, the daemon judges what it can, and shows
# the function "not measured", waiting for its module, not as an error. (The
# busy module itself cannot be loaded under that patch: its init waits for
# the original work function, which the patch replaces.) Then the fixture
# lp_modfn, a patch of lps_modfn_work loaded before its module lps_modfn: the
# function is traced when the module arrives and its calls counted, `rmmod`
# of the module succeeds while the daemon runs (its probes released, the
# function waiting again), and the next load is traced afresh, its counts
# going on. Then lp_gate_getpid, a patch of the syscall wrapper
# __x64_sys_getpid (ftrace lists only __do_sys_getpid at that address), loaded
# behind the daemon's back under a getpid loop: measured under the alias, as
# gate does. Last, a module function named with --function and not patched:
# a BPF trampoline there would pin the module; rmmod must still succeed.
# Not exclusive: nothing here depends on timing but bounded waits.
# vm-timeout: 420
. "$(dirname "$0")/lib.sh"
S=$WORK/state
FX=build/fixtures/$LPS_KREL
# The kernel's livepatch test modules built for this kernel.
KT_DIR=${KT_DIR:-build/kernel-tests/$LPS_KREL}
DEMO=test_klp_callbacks_demo BUSY=test_klp_callbacks_busy
[[ -e $KT_DIR/$DEMO.ko ]] || fail "no $KT_DIR/$DEMO.ko: the kernel's livepatch test modules for $LPS_KREL"
sed -e 's/^  baseline_s: .*/  baseline_s: 2/' -e 's/^  observe_s: .*/  observe_s: 3/' \
	rules/default.yaml >"$WORK/rules.yaml"
[[ -e /sys/kernel/debug/kprobes/list ]] || mount -t debugfs none /sys/kernel/debug

DAEMON_PID= LOOP=
unload_patch() {	# unload_patch NAME: disable, wait for the unpatch, rmmod
	if [[ -e /sys/kernel/livepatch/$1 ]]; then
		echo 0 >/sys/kernel/livepatch/$1/enabled || true
		for ((i = 0; i < 300; i++)); do [[ -e /sys/kernel/livepatch/$1 ]] || break; nap 0.2; done
	fi
	rmmod "$1" 2>/dev/null || true
}
cleanup() {
	[[ -n $LOOP ]] && kill "$LOOP" 2>/dev/null
	[[ -n $DAEMON_PID ]] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" || true
	rmmod lps_modfn 2>/dev/null || true
	unload_patch lp_modfn
	unload_patch lp_gate_getpid
	unload_patch $DEMO
}
trap cleanup EXIT

start_daemon() {	# start_daemon LOG ARGS...
	local log=$1; shift
	"$LPS" watch --state "$S" --rules "$WORK/rules.yaml" "$@" 2>"$WORK/$log" &
	DAEMON_PID=$!
	wait_for 120 "daemon start" file_has "$WORK/$log" watching
}
stop_daemon() {
	local rc=0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	[[ $rc == 0 ]] || fail "daemon exit $rc after SIGTERM"
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
	local t=$1 end=$((SECONDS + $1)) what=$2; shift 2
	while ((SECONDS < end)); do
		"$@" && return 0
		[[ -z $DAEMON_PID ]] || kill -0 "$DAEMON_PID" 2>/dev/null ||
			{ tail -n 5 "$WORK"/daemon*.err; fail "daemon died waiting for $what"; }
		nap 0.2
	done
	tail -n 8 "$WORK"/daemon*.err; fail "no $what within $t s"
}
# fn_state FN: STATE OBJECT ATTACH CALLS of FN in status.json
fn_state() {
	json "$S/status.json" "' '.join(str(f[k]) for f in d['functions'] if f['function']=='$1' for k in ('state','object','attach','calls'))"
}
state_is() { [[ -s $S/status.json && $(fn_state "$1") == "$2"* ]]; }	# state_is FN PREFIX
# Kprobes (and kretprobes) the kernel holds on FN; and whether any is left on
# a module that went ([GONE], its symbol gone too: the guest has no others).
kprobes_on() { grep -c " $1+0x[0-9a-f]* " /sys/kernel/debug/kprobes/list || true; }
none_gone() { ! grep -q GONE /sys/kernel/debug/kprobes/list; }
verdict_of() {	# verdict_of PATCH: action, not measured (function, object), reason
	py -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("patch") == sys.argv[2]: r = d
print(r["action"], [(u["function"], u["object"]) for u in r.get("not_measured", [])], r["reason"])' "$S/audit.jsonl" "$1"
}
call_modfn() { for ((k = 0; k < $1; k++)); do echo x >/proc/lps_modfn; done; }

# 1. The kernel's own patch arrives before its module: judged on what can be measured.
start_daemon daemon.err --function version_proc_show
insmod "$KT_DIR/$DEMO.ko"
wait_for 120 "verdict on $DEMO" file_has "$S/audit.jsonl" "\"patch\":\"$DEMO\""
grep -q "unknown function" "$WORK/daemon.err" && { cat "$WORK/daemon.err"; fail "busymod_work_func refused as unknown"; }
nm=$(verdict_of $DEMO)
[[ $nm == "kept [('busymod_work_func', '$BUSY')]"* && $nm == *"not measured"* ]] || fail "verdict on $DEMO: $nm"
wait_for 60 "busymod_work_func waiting in status" state_is busymod_work_func "waiting $BUSY none"
"$LPS" status --state "$S" >"$WORK/status1.txt"
grep -q "busymod_work_func *waiting for module $BUSY" "$WORK/status1.txt" ||
	{ cat "$WORK/status1.txt"; fail "status does not show busymod_work_func waiting"; }
ok "$DEMO loaded before $BUSY: $nm; status: $(grep "waiting for" "$WORK/status1.txt")"

# 2. A patch of lps_modfn_work before its module; the module arrives, patched by the kernel: traced.
FN=lps_modfn_work
insmod "$FX/lp_modfn.ko"
wait_for 120 "verdict on lp_modfn" file_has "$S/audit.jsonl" '"patch":"lp_modfn"'
wait_for 60 "$FN waiting" state_is $FN "waiting lps_modfn none"
insmod "$FX/lps_modfn.ko"
wait_for 30 "$FN traced after insmod" state_is $FN "traced lps_modfn kprobe"
n=$(kprobes_on $FN)
((n >= 1)) || fail "status says traced, but the kernel has no kprobe on $FN"
file_has "$WORK/daemon.err" "module lps_modfn loaded: tracing" || fail "the daemon did not say it traced lps_modfn"
call_modfn 5
wait_for 10 "5 calls of $FN counted" state_is $FN "traced lps_modfn kprobe 5"
ok "lp_modfn before lps_modfn: $(verdict_of lp_modfn | cut -c1-60)...; insmod: traced ($n kprobes), 5 calls counted"

# 3. rmmod while the daemon runs: succeeds, and the probes are released.
rmmod lps_modfn || fail "rmmod lps_modfn failed while the daemon runs: $(grep lps_modfn /proc/modules)"
wait_for 30 "$FN waiting again after rmmod" state_is $FN "waiting lps_modfn none 5"
wait_for 10 "the kprobes on lps_modfn released" none_gone
file_has "$WORK/daemon.err" "module lps_modfn unloaded" || fail "the daemon did not say it released lps_modfn"
ok "rmmod lps_modfn: succeeded, probes released, $FN waiting again: $("$LPS" status --state "$S" | grep " $FN ")"

# 4. Loaded again: a new load, new probes (a kprobe on the old load never fires again).
insmod "$FX/lps_modfn.ko"
wait_for 30 "$FN traced after the second insmod" state_is $FN "traced lps_modfn kprobe"
call_modfn 3
wait_for 10 "3 more calls of $FN counted" state_is $FN "traced lps_modfn kprobe 8"
ok "insmod lps_modfn again: traced afresh, calls 5 + 3 = 8"

# 5. A syscall patch behind the daemon's back: traced under the name ftrace lists.
# getpid in a loop: $BASHPID is a getpid() per expansion, and nothing else.
bash -c 'while :; do : $BASHPID; done' &
LOOP=$!
insmod "$FX/lp_gate_getpid.ko"
wait_for 120 "verdict on lp_gate_getpid" file_has "$S/audit.jsonl" '"patch":"lp_gate_getpid"'
grep -q "not traceable" "$WORK/daemon.err" && { cat "$WORK/daemon.err"; fail "__x64_sys_getpid refused as not traceable"; }
rec=$(py -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("patch") == "lp_gate_getpid": r = d
f = [f for f in r["functions"] if f["function"] == "__x64_sys_getpid"][0]
print(r["action"], f.get("traced_as"), f["observed"]["calls"])' "$S/audit.jsonl")
read -r action traced calls <<<"$rec"
[[ $traced == __do_sys_getpid && $calls -gt 0 ]] ||
	{ grep lp_gate_getpid "$S/audit.jsonl"; fail "lp_gate_getpid: not measured as __do_sys_getpid: $rec"; }
st=$(json "$S/status.json" "[(f.get('traced_as'), f['calls']) for f in d['functions'] if f['function']=='__x64_sys_getpid'][0]")
[[ $st == "('__do_sys_getpid', "[1-9]* ]] || fail "status.json: __x64_sys_getpid $st"
"$LPS" status --state "$S" | grep -q "__x64_sys_getpid .* as __do_sys_getpid calls [1-9]" ||
	{ "$LPS" status --state "$S"; fail "status does not say __x64_sys_getpid is traced as __do_sys_getpid"; }
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true; LOOP=
unload_patch lp_gate_getpid
ok "lp_gate_getpid behind the daemon's back: $action, traced as $traced, $calls calls observed"
stop_daemon
[[ $(kprobes_on $FN) == 0 ]] || fail "kprobes on $FN left after SIGTERM"
ok "SIGTERM: exit 0, the kprobes on $FN gone"

# 6. A module function named with --function, traced before any patch: no pin.
rmmod lps_modfn
unload_patch lp_modfn
insmod "$FX/lps_modfn.ko"
rm -f "$S/status.json"
start_daemon daemon2.err --function $FN
wait_for 60 "$FN traced by --function" state_is $FN "traced lps_modfn"
attach=$(fn_state $FN)
refs=$(cat /sys/module/lps_modfn/refcnt)
rmmod lps_modfn || fail "rmmod lps_modfn failed with $FN traced ($attach, refcnt $refs)"
wait_for 30 "$FN waiting after rmmod" state_is $FN "waiting lps_modfn none"
stop_daemon
ok "--function $FN ($attach, module refcnt $refs): rmmod succeeded, the daemon exited 0"
