#!/usr/bin/env bash
# make test's stages, one `make STAGE` each, in order; stops at the first that
# fails. At the end (pass or fail) a table of every stage's time and result,
# so that drift in the whole run shows next to the VM cases' own table.
# Usage: tests/run-stages.sh STAGE...
set -uo pipefail
cd "$(dirname "$0")/.."
rows=() rc=0 t0=$(date +%s)
for s in "$@"; do
	start=$(date +%s)
	echo "=== make $s"
	make --no-print-directory "$s"
	r=$?
	rows+=("$(printf '%-14s %6d s  %s' "$s" $(( $(date +%s) - start )) \
		"$([[ $r -eq 0 ]] && echo PASS || echo "FAIL(rc $r)")")")
	if [[ $r -ne 0 ]]; then rc=$r; break; fi
done
echo "=== make test: stages"
printf '%s\n' "${rows[@]}"
stages=("$@")
for s in "${stages[@]:${#rows[@]}}"; do printf '%-14s %8s  %s\n' "$s" - "not run"; done
awk -v s=$(( $(date +%s) - t0 )) 'BEGIN { printf "total %d s (%.1f min)\n", s, s / 60 }' 
exit $rc
