#!/usr/bin/env bash
# Many functions at once (80, past any small fixed limit), with intervals:
# every probe attaches, the two functions the workload drives count exactly,
# and the per-interval counts add up to the totals.
. "$(dirname "$0")/lib.sh"

# Candidates: vmlinux seq_file show functions that ftrace can hook, that have
# BTF and whose name is unique in kallsyms (rarely called, safe to trace).
bpftool btf dump file /sys/kernel/btf/vmlinux | sed -n "s/^\[[0-9]*\] FUNC '\([^']*\)'.*/\1/p" | sort -u >"$WORK/btf"
grep -v '\[' /sys/kernel/tracing/available_filter_functions | sort | uniq -u >"$WORK/aff"
awk '$2 ~ /^[tT]$/ && NF == 3 { print $3 }' /proc/kallsyms | sort | uniq -u >"$WORK/ksyms"
comm -12 "$WORK/btf" "$WORK/aff" | comm -12 - "$WORK/ksyms" | grep -E '_show$' |
	grep -vxE 'version_proc_show|cmdline_proc_show' | sed -n 1,78p >"$WORK/funcs"
[[ $(wc -l <"$WORK/funcs") == 78 ]] || fail "only $(wc -l <"$WORK/funcs") candidate functions"

start_trace many version_proc_show cmdline_proc_show $(cat "$WORK/funcs") -i 1 --json
"$LPLOAD" --file /proc/version --procs 2 --count 700 >/dev/null
"$LPLOAD" --file /proc/cmdline --procs 2 --count 300 >/dev/null
sleep 1.5	# let at least one interval pass after the load
stop_trace
out="$WORK/many.out"
[[ $(json "$out" "len(d['functions'])") == 80 ]] || fail "not all 80 functions reported"
[[ $(fn_field "$out" version_proc_show calls) == 700 ]] || fail "version_proc_show calls != 700"
[[ $(fn_field "$out" cmdline_proc_show calls) == 300 ]] || fail "cmdline_proc_show calls != 300"
py - "$out" <<'PY' || fail "intervals do not add up to the totals"
import json, sys
d = json.load(open(sys.argv[1]))
tot = {f["function"]: f["calls"] for f in d["functions"]}
s = {}
for iv in d["intervals"]:
    for f in iv["functions"]:
        s[f["function"]] = s.get(f["function"], 0) + f["calls"]
assert len(d["intervals"]) >= 2, "fewer than 2 intervals"
assert s == tot, "interval sums differ"
PY
modes=$(json "$out" "sorted(set(f['attach'] for f in d['functions']))")
ok "80 functions traced ($modes), exact counts, $(json "$out" "len(d['intervals'])") intervals add up"
