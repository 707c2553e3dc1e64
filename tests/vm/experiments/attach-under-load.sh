#!/usr/bin/env bash
# How long trace takes from exec to exit beside a running workload, and what
# it counts (docs/limits.md). The workload runs 9 s, the trace starts 1 s in
# and asks for 4 s: a trace whose start takes over 4 s counts fewer calls, or
# none, because its window ends after the workload does.
# Run: ./tests/vm/run-in-vm.sh KREL "bash tests/vm/experiments/attach-under-load.sh"
. tests/vm/cases/lib.sh
set +e
run() {	# run LABEL MODE
	"$LPLOAD" --file /proc/version --procs 2 --pause-us 50 --seconds 9 >"$WORK/load.txt" &
	local load=$! t0 t1
	nap 1
	t0=$(date +%s.%N)
	./lpsentinel trace version_proc_show --no-signals --mode "$2" --json -d 4 >"$WORK/a.json" 2>"$WORK/a.err"
	t1=$(date +%s.%N)
	echo "[$1 $2] exec to exit $(py -c "print(round($t1 - $t0, 2))") s; (window s, calls): $(json "$WORK/a.json" "(round(d['duration_s'], 2), d['functions'][0]['calls'])")"
	wait "$load"
	echo "   lpload: $(cat "$WORK/load.txt")"
}
run a kprobe
run b kprobe
run c fentry
run d fentry
run e kprobe
run f kprobe
