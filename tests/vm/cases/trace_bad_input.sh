#!/usr/bin/env bash
# Bad input and refusals: each one clear line on stderr and the contract's exit
# status (1 operational, 2 usage), never a crash or a hang.
# One lab kernel (docs/lab.md, "Which kernels"): the input here is hostile to
# lpsentinel's own parsing and loop, the same code on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"

# expect STATUS PATTERN CMD...: exit status, exactly one stderr line matching PATTERN
expect() {
	local want=$1 pat=$2; shift 2
	local rc=0
	timeout 120 "$@" >"$WORK/x.out" 2>"$WORK/x.err" || rc=$?
	[[ $rc == "$want" ]] || { cat "$WORK/x.err"; fail "$*: exit $rc, want $want"; }
	[[ $(wc -l <"$WORK/x.err") == 1 ]] || { cat "$WORK/x.err"; fail "$*: want one line on stderr"; }
	grep -qE "$pat" "$WORK/x.err" || { cat "$WORK/x.err"; fail "$*: stderr does not say '$pat'"; }
	ok "$* -> $rc: $(cat "$WORK/x.err")"
}

expect 1 "unknown function" "$LPS" trace no_such_function_lps -d 1
# A text symbol that ftrace cannot hook (notrace/inlined/blacklisted).
untraceable=$(awk '$2 ~ /^[tT]$/ && NF == 3 { print $3 }' /proc/kallsyms | sort | uniq -u |
	comm -23 - <(grep -v '\[' /sys/kernel/tracing/available_filter_functions | sort -u) |
	grep -E '^[a-z]' | sed -n 1p)
expect 1 "not traceable" "$LPS" trace "$untraceable" -d 1
expect 1 "twice" "$LPS" trace version_proc_show version_proc_show -d 1
expect 1 "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups "$LPS" trace version_proc_show -d 1
expect 2 "usage error" "$LPS" trace
expect 2 "usage error" "$LPS" trace version_proc_show -d -3
expect 2 "usage error" "$LPS" trace version_proc_show --mode nonsense
expect 2 "usage error" "$LPS" frobnicate

# fentry needs BTF; an out-of-tree module built without vmlinux has none.
insmod "build/fixtures/$LPS_KREL/lps_fail.ko"
trap 'rmmod lps_fail 2>/dev/null || true' EXIT
if [[ ! -e /sys/kernel/btf/lps_fail ]]; then
	expect 1 "fentry needs BTF" "$LPS" trace lps_fail_check --mode fentry -d 1
fi

# The kernel refuses: with ftrace disabled it would accept probes and never run
# them, so lpsentinel must refuse up front.
sysctl -q kernel.ftrace_enabled=0
expect 1 "ftrace is disabled" "$LPS" trace version_proc_show -d 1
sysctl -q kernel.ftrace_enabled=1
# Lockdown (confidentiality) forbids kprobes; it cannot be undone, so last.
echo confidentiality >/sys/kernel/security/lockdown
expect 1 "refused to attach the kprobe probe: Operation not permitted" \
	"$LPS" trace version_proc_show --mode kprobe -d 1
