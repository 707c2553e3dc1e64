#!/usr/bin/env bash
# make bench: runs tests/bench/guest-bench.sh in a guest of every lab kernel and
# keeps the tables in build/bench/<krel>.txt and the figures, per kernel, in
# build/bench/bench.json (a kernel's entry is replaced, the others kept).
# BENCH_CONFIGS, BENCH_ROUNDS, BENCH_SECONDS, BENCH_BUDGET_SECONDS are passed to the guest. The guests run with qemu -icount:
# one virtual ns per instruction, so every figure counts instructions, is the
# same from run to run, and does not follow the host's load (plain TCG timings
# varied by 2.6x between identical runs here).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
mkdir -p build/bench
echo "host spin job: $(tests/bench/spin.sh) s" | tee build/bench/host-spin.txt
# 6.12 and sid's (7.x): the 6.1 guest never gets past SeaBIOS under -icount
# (tried shift=0 and shift=auto, sleep=on and off), and plain TCG is too noisy
# to rank costs of a few hundred ns. BENCH_KERNELS (an extended regex of
# releases) picks others.
for krel in $("$top/tests/vm/kernels.sh" | grep -E "${BENCH_KERNELS:-^(6\.12|[7-9])\.}"); do
	echo "=== bench on $krel"
	"$top/tests/vm/build-fixtures.sh" "$krel" >/dev/null	# the no-op livepatch
	# run-in-vm.sh names the guest's results folder on stderr only
	rc=0
	VM_ICOUNT=1 "$top/tests/vm/run-in-vm.sh" -t "${BENCH_TIMEOUT:-2400}" "$krel" \
		"BENCH_SECONDS=$(printf %q "${BENCH_SECONDS:-3}") BENCH_ROUNDS=$(printf %q "${BENCH_ROUNDS:-5}") BENCH_CONFIGS=$(printf %q "${BENCH_CONFIGS:-}") BENCH_BUDGET_SECONDS=$(printf %q "${BENCH_BUDGET_SECONDS:-120}") tests/bench/guest-bench.sh" \
		2>"build/bench/$krel.err" | tee "build/bench/$krel.txt" || rc=$?
	cat "build/bench/$krel.err" >&2
	res=$(sed -n 's/^vm: results in //p' "build/bench/$krel.err")
	if ((rc != 0)) || [[ ! -s $res/bench.json ]]; then
		echo "bench: $krel: guest failed (rc $rc) or wrote no bench.json" >&2
		exit 1
	fi
	cp "$res/bench.json" "build/bench/$krel.json"
	[[ -s $res/bench-self.json ]] && cp "$res/bench-self.json" "build/bench/$krel-self.json"
	python3 - build/bench/bench.json "build/bench/$krel.json" <<'PY'
import json, os, sys
out, new = sys.argv[1], json.load(open(sys.argv[2]))
merged = json.load(open(out)) if os.path.exists(out) else {}
merged.update(new)
json.dump(merged, open(out + ".tmp", "w"), indent=1, sort_keys=True)
os.replace(out + ".tmp", out)
PY
	echo "bench: figures of $krel in build/bench/bench.json"
done
# README's cost table comes from these figures, never typed by hand.
python3 "$here/bench-table.py" build/bench/bench.json --update README.md
echo "bench: README.md's cost table rewritten from build/bench/bench.json"
