#!/usr/bin/env bash
# Runs VM test cases, one fresh guest per case and kernel, so a hang costs one
# test. usage: run-cases.sh [-k KREL]... [CASE...]   (default: every case in
# tests/vm/cases on every lab kernel). Exit 0 only if every case passed.
#
# Two guests run at once (VM_JOBS, default 2 on a host with 2 or more cores:
# a guest runs single-threaded TCG, about one host core). A case whose
# assertions depend on the host's timing says "# vm-exclusive: yes" in its
# header and runs alone: the runner lets the running guests finish first and
# starts nothing beside it. Exclusive cases run first, then the others longest
# first (by the times of the previous run, build/vm/case-times.tsv, or in a
# clean clone tests/vm/case-times.tsv, a CI run's kept in the repository).
# Each case's output goes to a file and is printed in one piece when the case
# ends; at the end comes a table of every case's time, slowest first.
# A case that says "# vm-kernels: GLOB" runs only on the kernels matching it.
# On sid's kernel (scripts/lab-sid.sh) only the cases that say "# vm-sid: yes"
# run, the subset that proves the product there (docs/lab.md), unless
# VM_SID_ALL=1.
# After the table come each failed case's last lines (its reason), and the
# last line is always "vm tests: N passed, N failed[: name@krel ...]".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

krels=() cases=()
while (($#)); do
	case $1 in
	-k) krels+=("$2"); shift 2 ;;
	*) cases+=("$1"); shift ;;
	esac
done
((${#krels[@]})) || mapfile -t krels < <("$here/kernels.sh")
((${#krels[@]})) || { echo "vm: no lab kernels installed (run: make deps)" >&2; exit 1; }
named=${#cases[@]}
if ((${#cases[@]} == 0)); then
	for c in tests/vm/cases/*.sh; do [[ $c == */lib.sh ]] || cases+=("$c"); done
fi
for c in "${cases[@]}"; do [[ -f $c ]] || { echo "vm: no case $c" >&2; exit 2; }; done

if [[ -n ${VM_JOBS:-} ]]; then
	[[ $VM_JOBS =~ ^[1-9][0-9]*$ ]] || { echo "vm: VM_JOBS must be a positive number" >&2; exit 2; }
	jobs_max=$VM_JOBS
else
	jobs_max=$(($(nproc) >= 2 ? 2 : 1))
fi

hdr() { sed -n "s/^# $1: \\(.*\\)\$/\\1/p" "$2" | head -n1; }	# hdr KEY CASE: a header value

run_t0=$(date +%s)
# The jobs: one per case and kernel. Order: exclusive ones first, in the order
# given, then the rest by the previous run's time, longest first (unknown
# ones first of all, then the order given), so the last to finish are short.
# A clean clone has no previous run: tests/vm/case-times.tsv, the times of a
# full CI-like run kept in the repository, stands in for the cases it names.
times_file=$top/build/vm/case-times.tsv
declare -A prev=()
for f in "$here/case-times.tsv" "$times_file"; do
	[[ -s $f ]] || continue
	while IFS=$'\t' read -r n k s _; do [[ $s =~ ^[0-9]+$ ]] && prev["$n@$k"]=$s; done <"$f"
done
sid_krel=$("$top/scripts/lab-sid.sh" krel 2>/dev/null || true)
excl_jobs=() shared_keyed=() sid_skipped=()
i=0
for c in "${cases[@]}"; do
	name=$(basename "$c" .sh)
	only=$(hdr vm-kernels "$c")
	for krel in "${krels[@]}"; do
		# "# vm-kernels: GLOB": the case runs on the lab kernels matching it
		# only (what it proves does not depend on the kernel; docs/lab.md).
		# shellcheck disable=SC2053
		[[ -z $only || $krel == $only ]] || continue
		# sid's kernel runs the "# vm-sid: yes" subset only (CI's time).
		if [[ $krel == "$sid_krel" && $(hdr vm-sid "$c") != yes && ${VM_SID_ALL:-0} != 1 ]]; then
			sid_skipped+=("$name")
			continue
		fi
		if [[ $(hdr vm-exclusive "$c") == yes ]]; then
			excl_jobs+=("$krel|$c")
		else
			printf -v key '%08d.%06d' "$((99999999 - ${prev["$name@$krel"]:-99999999}))" "$i"
			shared_keyed+=("$key $krel|$c")
		fi
		i=$((i + 1))
	done
done
# Named on the command line, a case left out on sid's kernel says so.
((named == 0 || ${#sid_skipped[@]} == 0)) ||
	echo "vm: not run on $sid_krel (not in its '# vm-sid: yes' subset; VM_SID_ALL=1 runs them): ${sid_skipped[*]}" >&2
order=("${excl_jobs[@]}")
((${#shared_keyed[@]} == 0)) || mapfile -t -O "${#order[@]}" order < <(printf '%s\n' "${shared_keyed[@]}" | sort | cut -d' ' -f2-)

# Everything the guests share is made before any of them starts: the fixtures
# and the initramfs of every kernel a case runs on, and the kernel's own
# livepatch test modules where a case uses them (two guests must not build
# them at once; sid's subset has no such case, which saves CI their build).
for krel in "${krels[@]}"; do
	mine=() needs_kt=0
	for job in "${order[@]}"; do
		[[ ${job%%|*} == "$krel" ]] || continue
		mine+=("$job")
		grep -q 'build/kernel-tests' "${job#*|}" && needs_kt=1
	done
	((${#mine[@]})) || continue
	"$here/build-fixtures.sh" "$krel" >/dev/null
	((needs_kt == 0)) || "$here/build-kernel-tests.sh" "$krel" >/dev/null
	"$here/initramfs.sh" "$krel" "$top/build/vm/initramfs-$krel.gz"
done

# The builds above leave dirty pages behind; written back while the first
# (exclusive, timing-sensitive) guests run, they could stall the vCPU threads.
# A run's first gate was reverted for the guest's run-queue waits in CI
# (2026-12-01: waits of 2 to 35 ms) and here (2026-12-02: p90 4.92 ms against
# 1.51 ms in the baseline); that this is the cause is a guess, and the flush
# is cheap.
sync
logdir=$top/build/vm/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logdir"

declare -A pid_job=() pid_t0=() pid_mode=()
running=0 failed=() passed=0 rows=()

# run_job KREL CASE LOG: one guest; its output and the runner's notes go to LOG.
run_job() {
	local krel=$1 c=$2 log=$3 smp tmo cpu
	# A case may ask for more vCPUs ("# vm-smp: N"), more time ("# vm-timeout: S")
	# or another CPU model ("# vm-cpu: MODEL").
	smp=$(hdr vm-smp "$c") tmo=$(hdr vm-timeout "$c") cpu=$(hdr vm-cpu "$c")
	VM_CPU=${cpu:-${VM_CPU:-}} VM_SMP=${smp:-${VM_SMP:-2}} "$here/run-in-vm.sh" -t "${VM_CASE_TIMEOUT:-${tmo:-600}}" \
		"$krel" "bash $c" >"$log" 2>&1
}

start_job() {	# start_job "KREL|CASE" MODE
	local krel=${1%%|*} c=${1#*|} name log
	name=$(basename "$c" .sh)
	log=$logdir/$name@$krel.log
	run_job "$krel" "$c" "$log" &
	pid_job[$!]="$krel|$c" pid_t0[$!]=$(date +%s) pid_mode[$!]=$2
	running=$((running + 1))
	return 0
}

# emulator_fault LOG: the guest's oops shows an EFLAGS no x86 CPU can hold
# (reserved bits 22-31 set, or bit 1 clear: POPF and IRET cannot produce
# them). Seen on 6.12 guests under TCG, in the slab allocator's cmpxchg16b
# path (EFLAGS 057fd202, the low bits of a pointer in RAX): a fault of the
# emulator, not of the kernel or of lpsentinel. Prints the value.
emulator_fault() {
	local v
	for v in $(grep -o 'EFLAGS: [0-9a-f]\{8,16\}' "$1" | awk '{ print $2 }' | sort -u); do
		if (((0x$v >> 22) != 0 || (0x$v & 2) == 0)); then echo "$v"; return 0; fi
	done
	return 1
}

declare -A retried=()

finish_job() {	# finish_job PID RC: prints the case's output in one piece
	local pid=$1 rc=$2 krel c name s ef mode
	krel=${pid_job[$pid]%%|*} c=${pid_job[$pid]#*|}
	name=$(basename "$c" .sh)
	s=$(($(date +%s) - pid_t0[$pid]))
	echo "=== $name on $krel"
	cat "$logdir/$name@$krel.log"
	# A guest the emulator broke runs its case once more; a second crash,
	# or any other, fails the case. Both runs' logs stay.
	if ((rc == 124)) && [[ -z ${retried["$name@$krel"]:-} ]] && ef=$(emulator_fault "$logdir/$name@$krel.log"); then
		retried["$name@$krel"]=1 mode=${pid_mode[$pid]}
		mv "$logdir/$name@$krel.log" "$logdir/$name@$krel.crashed.log"
		echo "=== RETRY $name on $krel ($s s): the guest crashed with EFLAGS $ef, which no x86 CPU can hold (an emulator fault); running it once more"
		emulator_retries+=("$name@$krel")
		unset "pid_job[$pid]" "pid_t0[$pid]" "pid_mode[$pid]"
		running=$((running - 1))
		start_job "$krel|$c" "$mode"
		return 0
	fi
	local again=${retried["$name@$krel"]:+" (2nd run)"}
	if ((rc == 0)); then
		passed=$((passed + 1))
		echo "=== PASS $name on $krel ($s s)$again"
		rows+=("$name"$'\t'"$krel"$'\t'"$s"$'\t'"PASS$again"$'\t'"${pid_mode[$pid]}")
	else
		failed+=("$name@$krel")
		echo "=== FAIL $name on $krel ($s s)$again"
		rows+=("$name"$'\t'"$krel"$'\t'"$s"$'\t'"FAIL(rc $rc)$again"$'\t'"${pid_mode[$pid]}")
	fi
	unset "pid_job[$pid]" "pid_t0[$pid]" "pid_mode[$pid]"
	running=$((running - 1))
}

wait_one() {
	local pid rc=0
	wait -n -p pid "${!pid_job[@]}" || rc=$?
	finish_job "$pid" "$rc"
}

# Ctrl-C reaches the guests through the process group (run-in-vm.sh keeps
# qemu in the foreground group); a TERM to the runner stops its guests here.
kill_tree() { local c; for c in $(pgrep -P "$1" || true); do kill_tree "$c"; done; kill "$1" 2>/dev/null || true; }
stop_all() { local p; for p in "${!pid_job[@]}"; do kill_tree "$p"; done; exit 143; }
trap stop_all TERM

emulator_retries=()
for job in "${order[@]}"; do
	c=${job#*|}
	if [[ $(hdr vm-exclusive "$c") == yes ]]; then
		while ((running > 0)); do wait_one; done
		start_job "$job" alone
		while ((running > 0)); do wait_one; done	# and its rerun, if the emulator broke it
	else
		while ((running >= jobs_max)); do wait_one; done
		start_job "$job" shared
	fi
done
while ((running > 0)); do wait_one; done
wall=$(($(date +%s) - run_t0))

# The time table, slowest first, with each case's time in the previous run
# that had it (prev): drift shows run to run, and against tests/vm/README.md.
# mode: alone (an exclusive case) or shared (another guest may have run beside it).
sorted=$(printf '%s\n' "${rows[@]}" | sort -t$'\t' -k3,3nr -k1,1 -k2,2)
printf '%s\n' "$sorted" >"$logdir/case-times.tsv"
cp "$times_file" "$logdir/case-times.prev.tsv" 2>/dev/null || : >"$logdir/case-times.prev.tsv"
{
	printf '%s\n' "$sorted"
	# cases not run this time keep their last time, for the next run's order
	awk -F'\t' 'FILENAME == ARGV[1] { ran[$1 "@" $2] = 1; next } !ran[$1 "@" $2]' \
		<(printf '%s\n' "$sorted") "$logdir/case-times.prev.tsv"
} | sort -t$'\t' -k3,3nr -k1,1 -k2,2 >"$times_file.tmp" && mv "$times_file.tmp" "$times_file"
echo
echo "=== time table (slowest first; up to $jobs_max guests at once; logs in ${logdir#"$top"/})"
awk -F'\t' -v wall="$wall" '
	FILENAME == ARGV[1] { prev[$1 "@" $2] = $3; next }	# not NR == FNR: the file may be empty
	FNR == 1 { printf "%-20s %-24s %7s %6s  %-6s %s\n", "case", "kernel", "seconds", "prev", "mode", "result" }
	{
		p = ($1 "@" $2) in prev ? prev[$1 "@" $2] : "-"
		printf "%-20s %-24s %7d %6s  %-6s %s\n", $1, $2, $3, p, $5, $4; sum += $3
	}
	END { printf "total wall: %d s (%.1f min), fixtures and initramfs included; sum of case times: %d s (%.1f min)\n",
		wall, wall / 60, sum, sum / 60 }' "$logdir/case-times.prev.tsv" <(printf '%s\n' "$sorted")
# CI shows the end of this output only: each failed case's last lines go
# here, after the table, so its reason is never cut (kernel console lines,
# "[ secs ]", are left out; the whole log is in $logdir).
for f in "${failed[@]}"; do
	echo "=== why $f failed (its last lines; the whole log: ${logdir#"$top"/}/$f.log)"
	grep -v '^\[ *[0-9]*\.[0-9]*\]' "$logdir/$f.log" | grep -v '^vm: results in' | tail -n "${VM_FAIL_LINES:-15}" | cut -c1-300 || true
done
((${#emulator_retries[@]} == 0)) ||
	echo "emulator faults (guest crashed with an impossible EFLAGS; case run again): ${emulator_retries[*]}"
echo "vm tests: $passed passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
((${#failed[@]} == 0))
