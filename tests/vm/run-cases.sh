#!/usr/bin/env bash
# Runs VM test cases, one fresh guest per case and kernel, so a hang costs one
# test. usage: run-cases.sh [-k KREL]... [CASE...]   (default: every case in
# tests/vm/cases on every lab kernel). Exit 0 only if every case passed.
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
((${#cases[@]})) || mapfile -t cases < <(ls tests/vm/cases/*.sh | grep -v '/lib\.sh$')

failed=() passed=0
for krel in "${krels[@]}"; do
	"$here/build-fixtures.sh" "$krel" >/dev/null
	for c in "${cases[@]}"; do
		name=$(basename "$c" .sh)
		echo "=== $name on $krel"
		t0=$(date +%s)
		# A case may ask for more vCPUs ("# vm-smp: N") or more time ("# vm-timeout: S").
		smp=$(sed -n 's/^# vm-smp: \([0-9]*\)$/\1/p' "$c")
		tmo=$(sed -n 's/^# vm-timeout: \([0-9]*\)$/\1/p' "$c")
		if VM_SMP=${smp:-${VM_SMP:-2}} "$here/run-in-vm.sh" -t "${VM_CASE_TIMEOUT:-${tmo:-600}}" "$krel" "bash $c"; then
			passed=$((passed + 1))
			echo "=== PASS $name on $krel ($(($(date +%s) - t0)) s)"
		else
			failed+=("$name@$krel")
			echo "=== FAIL $name on $krel ($(($(date +%s) - t0)) s)"
		fi
	done
done
echo "vm tests: $passed passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
((${#failed[@]} == 0))
