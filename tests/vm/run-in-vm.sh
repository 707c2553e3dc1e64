#!/usr/bin/env bash
# run-in-vm.sh [-t TIMEOUT_S] KREL COMMAND...: boots Debian kernel KREL under
# qemu (TCG: KVM guests hang on these machines), runs COMMAND with bash in the
# guest, chrooted into the host's / (read-only) with the repository as cwd, and
# prints its output (stdout and stderr merged) on stdout, nothing else.
# Exit status: the command's, or 124 when the guest never reported one (hang,
# panic, lockup, timeout), with the console tail on stderr.
# Files written to $LPS_RESULTS in the guest stay in build/vm/results/<run>/,
# with console.log, boot_s (guest uptime at command start) and wall_s.
# VM_TCG_THREAD=single|multi picks qemu's TCG threading. Default single:
# multi-threaded TCG crashed 3 of 6 6.12 guests that enabled a livepatch under
# load (int3 oops while ftrace rewrote code another vCPU ran; 0 of 5 single).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
usage() { echo "usage: run-in-vm.sh [-t TIMEOUT_S] KREL COMMAND..." >&2; exit 2; }
timeout_s=300
if [[ ${1:-} == -t ]]; then
	[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
	timeout_s=$2; shift 2
fi
(($# >= 2)) || usage
krel=$1; shift
. "$here/lab-qemu.sh"
lab_kernel "$krel"
tcg=${VM_TCG_THREAD:-single}
[[ $tcg == single || $tcg == multi ]] || { echo "vm: VM_TCG_THREAD must be single or multi" >&2; exit 2; }
# VM_ICOUNT=1: guest time advances one ns per instruction executed (qemu
# -icount, single-threaded TCG). Timings then count instructions, as callgrind
# does, and no longer follow the host's load: what make bench uses.
# VM_CPU=MODEL: qemu's -cpu (default max,hypervisor=off: see tests/vm/README.md).
icount=()
if [[ ${VM_ICOUNT:-0} == 1 ]]; then
	tcg=single
	icount=(-icount shift=0,sleep=on)
fi

mkdir -p "$top/build/vm/results"
res=$(mktemp -d "$top/build/vm/results/$(date +%H%M%S)-XXXX")
lab_qemu_args "$krel" "$res"
lab_command "$res" "$*"

# --foreground keeps qemu in our process group so Ctrl-C reaches it.
# The console goes to a file, qemu's own chatter to qemu.err: stdout carries
# only the guest command's output.
rc=0 t0=$(date +%s.%N)
timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 \
	-accel "tcg,thread=$tcg" "${icount[@]}" -m 2G -smp "${VM_SMP:-2}" \
	-nographic -nic none "${LAB_QEMU_ARGS[@]}" </dev/null >/dev/null 2>"$res/qemu.err" || rc=$?
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >"$res/wall_s"

[[ -f $res/output ]] && cat "$res/output"
echo "vm: results in $res" >&2
if [[ ! -s $res/status ]]; then
	echo "vm: guest $krel reported no exit status (qemu rc $rc; 124 = timeout after ${timeout_s}s): hang, panic or lockup; last 60 console lines:" >&2
	tail -n 60 "$res/console.log" >&2 || true
	cat "$res/qemu.err" >&2 || true
	exit 124
fi
exit "$(cat "$res/status")"
