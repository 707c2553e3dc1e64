#!/usr/bin/env bash
# Probes attached while a workload runs: counted calls, by how the shell waits
# (docs/limits.md). Run: ./tests/vm/run-in-vm.sh KREL "bash tests/vm/experiments/attach-under-load.sh"
. tests/vm/cases/lib.sh
set +e
run() {	# run LABEL POLL
"$LPLOAD" --file /proc/version --procs 2 --pause-us 50 --seconds 9 >"$WORK/load.txt" &
load=$!
nap 1
./lpsentinel trace version_proc_show --no-signals --mode kprobe --json -d 4 >$WORK/a.json 2>$WORK/a.err &
t=$!
case $2 in
grep) while ! grep -q Tracing $WORK/a.err; do nap 0.1; done ;;
builtin) while :; do IFS= read -r l <$WORK/a.err 2>/dev/null; [[ $l == Tracing* ]] && break; nap 0.1; done ;;
none) ;;
esac
wait $t
echo "[$1] calls $(json $WORK/a.json "d['functions'][0]['calls']")"
wait $load; cat $WORK/load.txt
}
run none none
run grep grep
run builtin builtin
run none2 none
