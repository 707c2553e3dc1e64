#!/usr/bin/env bash
# make bench: runs tests/bench/guest-bench.sh in a guest of every lab kernel and
# keeps the tables in build/bench/<krel>.txt (ratios within one run only: TCG
# timings are 10-30x native and noisy, so only same-run comparisons mean much).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
mkdir -p build/bench
echo "host spin job: $(tests/bench/spin.sh) s" | tee build/bench/host-spin.txt
for krel in $("$top/tests/vm/kernels.sh"); do
	echo "=== bench on $krel"
	"$top/tests/vm/run-in-vm.sh" -t 1500 "$krel" \
		"BENCH_SECONDS=${BENCH_SECONDS:-3} BENCH_ROUNDS=${BENCH_ROUNDS:-5} tests/bench/guest-bench.sh" |
		tee "build/bench/$krel.txt"
done
