#!/usr/bin/env bash
# Error counting, exact, for each way a function reports failure:
#  - int return (BTF): proc_dointvec_minmax behind /proc/sys/vm/swappiness
#    fails with -EINVAL for a value below its minimum, succeeds on reads;
#  - pointer return (BTF): do_filp_open returns ERR_PTR(-ENOENT) for a path
#    that does not exist;
#  - a module function (lps_fail fixture), with or without module BTF:
#    lps_fail_check returns -EINVAL for odd numbers.
. "$(dirname "$0")/lib.sh"

R=300 E=200
for mode in fentry kprobe; do
	start_trace "int-$mode" proc_dointvec_minmax --mode "$mode" --json
	"$LPLOAD" --file /proc/sys/vm/swappiness --procs 2 --count $R >/dev/null
	"$LPLOAD" --file /proc/sys/vm/swappiness --procs 2 --count $E --write -5 >"$WORK/w"
	stop_trace
	out="$WORK/int-$mode.out"
	[[ $(lpload_field "$WORK/w" errors) == "$E" ]] || fail "writes of -5 did not all fail"
	[[ $(fn_field "$out" proc_dointvec_minmax return) == int32 ]] || fail "$mode: return kind not int32"
	calls=$(fn_field "$out" proc_dointvec_minmax calls)
	errors=$(fn_field "$out" proc_dointvec_minmax errors)
	[[ $calls == $((R + E)) ]] || fail "$mode: proc_dointvec_minmax calls=$calls, want $((R + E))"
	[[ $errors == "$E" ]] || fail "$mode: proc_dointvec_minmax errors=$errors, want $E"
	ok "$mode: int errors $errors of $calls calls"
done

for mode in fentry kprobe; do
	start_trace "ptr-$mode" do_filp_open --mode "$mode" --json
	"$LPLOAD" --file /nonexistent/lps-missing --procs 2 --count $E >"$WORK/m"
	stop_trace
	out="$WORK/ptr-$mode.out"
	[[ $(fn_field "$out" do_filp_open return) == pointer ]] || fail "$mode: return kind not pointer"
	errors=$(fn_field "$out" do_filp_open errors)
	# Anything else opening a missing file in the idle guest would add to it.
	[[ $errors == "$E" ]] || fail "$mode: do_filp_open errors=$errors, want $E"
	ok "$mode: pointer errors $errors"
done

ko=build/fixtures/$LPS_KREL/lps_fail.ko
insmod "$ko"
trap 'rmmod lps_fail 2>/dev/null || true' EXIT
start_trace mod lps_fail_check --json
"$LPLOAD" --file /proc/lps_fail --procs 2 --count 100 --write 3 >/dev/null
"$LPLOAD" --file /proc/lps_fail --procs 2 --count 60 --write 4 >/dev/null
stop_trace
out="$WORK/mod.out"
# A module's function gets kprobes in auto mode (a fentry trampoline would
# hold the module: rmmod would fail while it is traced). kbuild gives an
# out-of-tree module BTF only where the headers ship vmlinux (Debian 6.12
# does, 6.1 does not): a typed return with BTF, the either-width reading
# without.
want_attach=kprobe
if [[ -e /sys/kernel/btf/lps_fail ]]; then want_ret=int32; else want_ret=unknown; fi
[[ $(fn_field "$out" lps_fail_check attach) == "$want_attach" ]] || fail "module function not on $want_attach"
[[ $(fn_field "$out" lps_fail_check object) == lps_fail ]] || fail "object is not lps_fail"
[[ $(fn_field "$out" lps_fail_check return) == "$want_ret" ]] || fail "return kind is not $want_ret"
[[ $(fn_field "$out" lps_fail_check calls) == 160 ]] || fail "lps_fail_check calls != 160"
[[ $(fn_field "$out" lps_fail_check errors) == 100 ]] || fail "lps_fail_check errors != 100"
ok "module function ($want_attach, return $want_ret): 100 errors of 160 calls"
