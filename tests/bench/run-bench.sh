#!/usr/bin/env bash
# make bench: runs tests/bench/guest-bench.sh in a guest of every lab kernel and
# keeps the tables in build/bench/<krel>.txt. The guests run with qemu -icount:
# one virtual ns per instruction, so every figure counts instructions, is the
# same from run to run, and does not follow the host's load (plain TCG timings
# varied by 2.6x between identical runs here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
mkdir -p build/bench
echo "host spin job: $(tests/bench/spin.sh) s" | tee build/bench/host-spin.txt
# 6.12 only: the 6.1 guest never gets past SeaBIOS under -icount (tried
# shift=0 and shift=auto, sleep=on and off), and plain TCG is too noisy to rank
# costs of a few hundred ns.
for krel in $("$top/tests/vm/kernels.sh" | grep '^6\.12\.'); do
	echo "=== bench on $krel"
	"$top/tests/vm/build-fixtures.sh" "$krel" >/dev/null	# the no-op livepatch
	VM_ICOUNT=1 "$top/tests/vm/run-in-vm.sh" -t 2400 "$krel" \
		"BENCH_SECONDS=${BENCH_SECONDS:-3} BENCH_ROUNDS=${BENCH_ROUNDS:-5} BENCH_CONFIGS='${BENCH_CONFIGS:-}' tests/bench/guest-bench.sh" |
		tee "build/bench/$krel.txt"
done
