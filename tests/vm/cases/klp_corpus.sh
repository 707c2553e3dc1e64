#!/usr/bin/env bash
# The kernel's own livepatch test modules (test_klp_*.ko, built from Debian's
# linux-source package by tests/vm/build-kernel-tests.sh): livepatches that
# lpsentinel did not write, in the shapes real patches have. Every module is
# inspected (a module that is not a livepatch must be refused as such), and
# what inspect read from a livepatch is compared with what the kernel shows in
# sysfs once it is loaded. Gated: the ones that replace a callable function,
# under a workload that calls it (the syscall patch under a getpid loop: kept,
# traced through its alias; atomic replace set by a module parameter), the
# state- and callback-only ones with nothing to measure (kept), a patch of a
# module not loaded (kept, that function not measured, with the reason), and
# the kernel's stalled-transition scenario (the busy module's worker parked in
# the function the patch replaces): reverted, the blocker named, unloaded.
# One table row per module; the case fails at the end, listing the failed rows
# and why, so that one module that fails hides none of the others.
# Not in sid's CI subset: with the test modules' build it costs CI about
# 4 minutes, and it passed on 7.2 (all 14 modules, a patch of a module's
# function among them) when run there with VM_SID_ALL=1 (docs/lab.md).
. "$(dirname "$0")/lib.sh"
KT=build/kernel-tests/$LPS_KREL
SYS=/sys/kernel/livepatch
trap 'pkill -x lpload || true' EXIT

mods=()
for ko in "$KT"/test_klp_*.ko; do [[ -e $ko ]] && mods+=("$(basename "$ko" .ko)"); done
((${#mods[@]} >= 10)) || fail "$KT: want the kernel's test modules (tests/vm/build-kernel-tests.sh), found ${#mods[@]}"

declare -A INS=() SYSM=() GATE=() WHY=()
bad() { WHY[$1]+="${WHY[$1]:+; }$2"; }	# bad MODULE REASON: the module's row fails
note_gate() { GATE[$1]+="${GATE[$1]:+; }$2"; }
oneline() { tr '\n' ' ' <"$1" | cut -c1-"${2:-160}"; }
is_livepatch() { [[ $(modinfo -F livepatch "$KT/$1.ko") == Y ]]; }

wait_settled() {	# wait_settled PATCH: its transition finished within 60 s
	local end=$((SECONDS + 60))
	while ((SECONDS < end)); do
		[[ -e $SYS/$1/transition && $(<"$SYS/$1/transition") == 0 ]] && return 0
		nap 0.1
	done
	return 1
}
# unload MODULE: disables its patch if the kernel still has it, waits for the
# patch to leave sysfs and removes the module; 1 if something stays behind.
unload() {
	local end=$((SECONDS + 60))
	if [[ -e $SYS/$1/enabled && $(<"$SYS/$1/enabled") == 1 ]]; then
		echo 0 >"$SYS/$1/enabled" || true
	fi
	while [[ -e $SYS/$1 ]] && ((SECONDS < end)); do nap 0.1; done
	[[ ! -e /sys/module/$1 ]] || rmmod "$1" || return 1
	[[ ! -e $SYS/$1 ]]
}

# 1. inspect every module; one that is not a livepatch must be refused as such.
for m in "${mods[@]}"; do
	t0=$SECONDS rc=0
	"$LPS" inspect "$KT/$m.ko" --json >"$WORK/$m.ins.json" 2>"$WORK/$m.ins.err" || rc=$?
	if ! is_livepatch "$m"; then
		SYSM[$m]=- GATE[$m]=-
		if ((rc == 1)) && grep -q "not a livepatch module" "$WORK/$m.ins.err"; then
			INS[$m]="refused: not a livepatch"
		else
			INS[$m]="exit $rc"
			bad "$m" "inspect of a module that is not a livepatch: exit $rc, want 1 saying 'not a livepatch module': $(oneline "$WORK/$m.ins.err")"
		fi
	elif ((rc == 0)); then
		INS[$m]=$(json "$WORK/$m.ins.json" \
			"'ok: %d obj, %d fn' % (len(d.get('objects') or {f['object'] for f in d['functions']}), len(d['functions']))") ||
			{ INS[$m]="bad JSON"; bad "$m" "inspect --json printed no JSON document"; }
	else
		INS[$m]="error (exit $rc)"
		bad "$m" "inspect: exit $rc: $(oneline "$WORK/$m.ins.err")"
	fi
	echo "inspected $m: ${INS[$m]} ($((SECONDS - t0)) s)"
done

# sysfs_check MODULE: what inspect read from the .ko against what the kernel
# made of the patch: its objects (a directory each, functions or not) and
# their functions (FUNCTION,SYMPOS directories; sympos 0, "the only one",
# reads 1 there), its name and atomic replace. The patch as a gate kept it,
# or loaded here when the gate did not keep it; it stays loaded. REPLACE:
# what sysfs must say of atomic replace when a parameter set it at load.
sysfs_check() {	# sysfs_check MODULE [REPLACE]
	local m=$1
	if [[ ! -e $SYS/$m ]]; then
		if ! insmod "$KT/$m.ko" 2>"$WORK/$m.insmod.err"; then
			SYSM[$m]="insmod failed"
			bad "$m" "insmod: $(oneline "$WORK/$m.insmod.err")"
			return
		fi
	fi
	if ! wait_settled "$m"; then
		SYSM[$m]="no transition"
		bad "$m" "the patching transition did not finish within 60 s"
	elif [[ ${INS[$m]} != ok* ]]; then
		SYSM[$m]="- (no inspect)"
	else
		SYSM[$m]=$(py - "$WORK/$m.ins.json" "$m" "${2:-}" <<'PY'
import json, os, sys
d, patch, replace = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
root = "/sys/kernel/livepatch/" + patch
got = {o: sorted(f for f in os.listdir(os.path.join(root, o)) if os.path.isdir(os.path.join(root, o, f)))
       for o in os.listdir(root) if os.path.isdir(os.path.join(root, o))}
want = {}
for o in d.get("objects") or []:
    want.setdefault(o if isinstance(o, str) else o.get("object", o.get("name")), [])
for f in d["functions"]:
    want.setdefault(f["object"], []).append("%s,%d" % (f["function"], f.get("sympos") or 1))
want = {o: sorted(v) for o, v in want.items()}
errs = []
if d.get("patch") != patch:
    errs.append("patch %r, sysfs %r" % (d.get("patch"), patch))
if want != got:
    errs.append("inspect %s, sysfs %s" % (want, got))
if not replace and isinstance(d.get("replace"), bool):
    replace = str(int(d["replace"]))
if replace and os.path.exists(root + "/replace"):	# 6.1 does not show it
    rep = open(root + "/replace").read().strip()
    if rep != replace:
        errs.append("replace %s, sysfs %s" % (replace, rep))
print("yes" if not errs else "no: " + "; ".join(errs))
PY
) || SYSM[$m]="no: comparison failed"
		[[ ${SYSM[$m]} == yes ]] || bad "$m" "sysfs does not match inspect: ${SYSM[$m]#no: }"
	fi
	echo "sysfs of $m: ${SYSM[$m]}"
}

# gate TAG MODULE ARGS...: JSON in $WORK/TAG.json, stderr in
# $WORK/TAG.err, exit status in GRC, "ACTION (exit N)" or the error in GOUT.
gate() {
	local tag=$1 m=$2; shift 2
	GRC=0
	timeout 300 "$LPS" gate "$KT/$m.ko" --json "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err" || GRC=$?
	GOUT=$(json "$WORK/$tag.json" "d['action']" 2>/dev/null) || GOUT="error: $(grep -m1 . "$WORK/$tag.err" | cut -c1-90)"
	GOUT+=" (exit $GRC)"
}
# gate_check TAG MODE [FUNC [ALIAS]]: what the gate's JSON must say; prints why not.
#   kept FUNC [ALIAS]  kept, FUNC measured (calls in both windows); with ALIAS,
#                      FUNC's entry names the alias it was traced as
#   nothing [FUNC]     kept, no function measured; FUNC listed as not measured,
#                      with the reason
#   stalled FUNC       reverted: the transition stalled, a blocker's stack in FUNC
gate_check() {
	py - "$WORK/$1.json" "${@:2}" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("no JSON document")
mode, args = sys.argv[2], sys.argv[3:]
fns = d.get("functions") or []
def entry(name):
    for f in fns:
        if f.get("function") == name or name in [v for v in f.values() if isinstance(v, str)]:
            return f
def calls(f, w):
    return (f.get(w) or {}).get("calls") or 0
def unmeasured(f):
    s = json.dumps(f)
    return ("not_measured" in s or "not measured" in s) and not (calls(f, "baseline") and calls(f, "observed"))
want = "reverted" if mode == "stalled" else "kept"
if d.get("action") != want:
    sys.exit("action %s, want %s (%s)" % (d.get("action"), want, d.get("reason")))
if mode == "kept":
    f = entry(args[0])
    if not f:
        sys.exit("%s not among the judged functions %s" % (args[0], [x.get("function") for x in fns]))
    if not (calls(f, "baseline") and calls(f, "observed")):
        sys.exit("%s not measured: %d calls before, %d after" % (args[0], calls(f, "baseline"), calls(f, "observed")))
    if len(args) > 1 and args[1] not in json.dumps(f):
        sys.exit("%s: the entry does not name the alias %s it is traced as: %s" % (args[0], args[1], json.dumps(f)[:300]))
elif mode == "nothing":
    for f in fns:
        if not unmeasured(f):
            sys.exit("%s is measured, want nothing measured: %s" % (f.get("function"), json.dumps(f)[:300]))
    if args:
        nm = [n for n in d.get("not_measured") or [] if n.get("function") == args[0] and n.get("reason")]
        f = entry(args[0])
        if not nm and not (f and unmeasured(f)):
            sys.exit("%s (not measurable now) is not reported as not measured with a reason: %s" %
                     (args[0], d.get("not_measured")))
elif mode == "stalled":
    c = [c for c in d["system"]["checks"] if c["check"] == "transition"]
    if not c or c[0]["result"] != "fail" or "stalled" not in c[0]["detail"]:
        sys.exit("transition check %s" % c)
    bl = d["system"]["stalled_transition"]["transition_info"]["blockers"]
    if not any(args[0] in (b.get("stack") or "") for b in bl):
        sys.exit("no blocker with %s in its stack: %s" % (args[0], bl))
    print("blocked by " + ", ".join("%s[%d]" % (b["comm"], b["pid"]) for b in bl if args[0] in (b.get("stack") or "")))
PY
}
# gated TAG MODULE WANT_RC MODE [FUNC [ALIAS]]: checks a gate run, notes it in
# the module's row; the patch stays as the gate left it.
gated() {
	local tag=$1 m=$2 want=$3 why label=${1#"$2"}
	label=${label#.}
	note_gate "$m" "${label:+$label: }$GOUT"
	if [[ $GRC != "$want" ]]; then
		bad "$m" "gate $tag: exit $GRC, want $want: $(oneline "$WORK/$tag.err" 300)"
	elif ! why=$(gate_check "$tag" "${@:4}" 2>&1); then
		bad "$m" "gate $tag: $why"
	else
		echo "gated $tag: $GOUT${why:+, $why}"
		return 0
	fi
	echo "gated $tag: $GOUT, FAILED"
	return 1
}
LOADS=()
load() { "$LPLOAD" "$@" --procs 1 --seconds 900 --pause-us 50 >/dev/null 2>&1 & LOADS+=($!); }
stop_loads() { local p; for p in "${LOADS[@]}"; do stop_load "$p"; done; LOADS=(); }
FULL=(--baseline 3 --observe 5)	# functions with calls to judge
SHORT=(--baseline 1 --observe 2)	# nothing (new) to measure
# done_with MODULE: unloads the patch and says so in its row if it cannot.
done_with() { unload "$1" || bad "$1" "could not be disabled and unloaded"; }

# 2. Every livepatch gated, then checked against sysfs as the gate left it
# (or as loaded by hand when the gate did not keep it).
# cmdline_proc_show under /proc/cmdline reads; it stays for the replace below.
t0=$SECONDS
load --file /proc/cmdline
gate test_klp_livepatch test_klp_livepatch "${FULL[@]}"
gated test_klp_livepatch test_klp_livepatch 0 kept cmdline_proc_show || true
stop_loads
sysfs_check test_klp_livepatch
echo "test_klp_livepatch: $((SECONDS - t0)) s"

# Atomic replace, set at load by a module parameter passed through gate
# (replace=1), under /proc/meminfo reads: it takes test_klp_livepatch's place,
# as in the kernel's test-livepatch.sh.
t0=$SECONDS
load --file /proc/meminfo
gate test_klp_atomic_replace.replace=1 test_klp_atomic_replace "${FULL[@]}" -- replace=1
if gated test_klp_atomic_replace.replace=1 test_klp_atomic_replace 0 kept meminfo_proc_show; then
	# the replaced patch leaves sysfs once the kernel has freed it (a work item)
	for ((i = 0; i < 100; i++)); do [[ -e $SYS/test_klp_livepatch ]] || break; nap 0.1; done
	[[ ! -e $SYS/test_klp_livepatch ]] || bad test_klp_atomic_replace "replace=1 kept, but test_klp_livepatch is still a patch"
	! grep -q "live patched" /proc/cmdline || bad test_klp_atomic_replace "replace=1 kept, but /proc/cmdline is still test_klp_livepatch's"
	sysfs_check test_klp_atomic_replace 1	# replace=1 must have reached the module
else
	sysfs_check test_klp_atomic_replace
fi
stop_loads
done_with test_klp_atomic_replace
done_with test_klp_livepatch
echo "test_klp_atomic_replace: $((SECONDS - t0)) s"

# The syscall patch (6.12's set): __x64_sys_getpid, which ftrace lists as
# __do_sys_getpid (the same address), under a getpid loop.
if [[ -e $KT/test_klp_syscall.ko ]]; then
	t0=$SECONDS
	load --getpid
	gate test_klp_syscall test_klp_syscall "${FULL[@]}"
	gated test_klp_syscall test_klp_syscall 0 kept __x64_sys_getpid __do_sys_getpid || true
	stop_loads
	sysfs_check test_klp_syscall
	done_with test_klp_syscall
	echo "test_klp_syscall: $((SECONDS - t0)) s"
fi

# A state-only patch and a callback-only one: nothing to measure, kept.
# test_klp_state2 and _state3 have test_klp_state's layout (one vmlinux object
# without functions, states, atomic replace): sysfs only, to keep the case short.
for m in test_klp_state test_klp_callbacks_demo2 test_klp_state2 test_klp_state3; do
	t0=$SECONDS
	[[ -e $KT/$m.ko ]] || { bad "$m" "not built"; continue; }
	if [[ $m == test_klp_state[23] ]]; then
		GATE[$m]="- (test_klp_state's layout)"
	else
		gate "$m" "$m" "${SHORT[@]}"
		gated "$m" "$m" 0 nothing || true
	fi
	sysfs_check "$m"
	done_with "$m"
	echo "$m: $((SECONDS - t0)) s"
done

# callbacks_demo with test_klp_callbacks_mod loaded and test_klp_callbacks_busy
# absent (an order of the kernel's test-callbacks.sh): its vmlinux and _mod
# objects have callbacks only; its function in _busy cannot be measured now
# (the kernel patches it when the module arrives). Kept.
t0=$SECONDS
insmod "$KT/test_klp_callbacks_mod.ko"
gate test_klp_callbacks_demo.busy-absent test_klp_callbacks_demo "${SHORT[@]}"
gated test_klp_callbacks_demo.busy-absent test_klp_callbacks_demo 0 nothing busymod_work_func || true
sysfs_check test_klp_callbacks_demo
done_with test_klp_callbacks_demo
rmmod test_klp_callbacks_mod

# The kernel's stalled transition: test_klp_callbacks_busy's worker sleeps in
# busymod_work_func while block_transition is set, so patching it cannot
# finish. The gate gives up after transition_timeout_s, reverts and unloads.
printf 'defaults:\n  transition_timeout_s: 5\n' >"$WORK/stall.yaml"
insmod "$KT/test_klp_callbacks_busy.ko" block_transition=Y
gate test_klp_callbacks_demo.stall test_klp_callbacks_demo "${SHORT[@]}" --rules "$WORK/stall.yaml"
if gated test_klp_callbacks_demo.stall test_klp_callbacks_demo 3 stalled busymod_work_func; then
	[[ ! -e /sys/module/test_klp_callbacks_demo ]] || bad test_klp_callbacks_demo "stalled patch left loaded"
fi
echo N >/sys/module/test_klp_callbacks_busy/parameters/block_transition
done_with test_klp_callbacks_demo
rmmod test_klp_callbacks_busy || bad test_klp_callbacks_demo "test_klp_callbacks_busy could not be removed after the stall"
echo "test_klp_callbacks_demo: $((SECONDS - t0)) s"

# A patch of a module's function (7.2's set): test_klp_mod_patch replaces
# test_klp_mod_target_show, which the target module shows as
# /proc/test_klp_mod_target; gated under reads of that file, with the target
# loaded first. Kept, and the file then says it is patched.
if [[ -e $KT/test_klp_mod_patch.ko ]]; then
	t0=$SECONDS
	insmod "$KT/test_klp_mod_target.ko"
	load --file /proc/test_klp_mod_target
	gate test_klp_mod_patch test_klp_mod_patch "${FULL[@]}"
	if gated test_klp_mod_patch test_klp_mod_patch 0 kept test_klp_mod_target_show; then
		grep -q "this has been live patched" /proc/test_klp_mod_target ||
			bad test_klp_mod_patch "kept, but /proc/test_klp_mod_target is not the patch's: $(oneline /proc/test_klp_mod_target)"
	fi
	stop_loads
	sysfs_check test_klp_mod_patch
	done_with test_klp_mod_patch
	rmmod test_klp_mod_target || bad test_klp_mod_patch "test_klp_mod_target could not be removed after the patch"
	echo "test_klp_mod_patch: $((SECONDS - t0)) s"
fi

# A livepatch this case does not know yet (a newer kernel's set) fails its
# row rather than passing unexercised.
for m in "${mods[@]}"; do
	[[ -n ${SYSM[$m]:-} ]] || bad "$m" "a livepatch this case does not exercise yet: add it"
done

# The table, then the verdict.
echo
printf '%-26s %-22s %-26s %-14s %-5s %s\n' module kernel inspect "sysfs match" row gate
nbad=0
for m in "${mods[@]}"; do
	r=ok
	[[ -z ${WHY[$m]:-} ]] || { r=FAIL; nbad=$((nbad + 1)); }
	sm=${SYSM[$m]:--}
	printf '%-26s %-22s %-26s %-14s %-5s %s\n' "$m" "$LPS_KREL" "${INS[$m]}" "${sm:0:14}" "$r" "${GATE[$m]:--}"
done
echo
for m in "${mods[@]}"; do [[ -z ${WHY[$m]:-} ]] || echo "FAIL $m: ${WHY[$m]}"; done
((nbad == 0)) || fail "$nbad of ${#mods[@]} modules failed (above)"
ok "all ${#mods[@]} test modules of $LPS_KREL inspected, matched in sysfs and gated as expected"
