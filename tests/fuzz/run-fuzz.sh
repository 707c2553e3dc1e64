#!/usr/bin/env bash
# run-fuzz.sh time SECONDS NAME... | runs N NAME...
# time: fuzzes each harness for SECONDS from its seeds and what earlier runs
# found (build/fuzz/corpus/NAME); a crash is kept in build/fuzz/crashes/NAME/
# and fails the run. runs: replays tests/fuzz/regress/NAME/ and the seeds,
# then N more executions with a fixed seed; a table says what ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=$1 amount=$2; shift 2
[[ $mode == time || $mode == runs ]] && [[ $amount =~ ^[0-9]+$ ]] ||
	{ echo "usage: run-fuzz.sh time SECONDS NAME... | runs N NAME..." >&2; exit 2; }
fail=0 rows=()
for name in "$@"; do
	bin=build/fuzz/fuzz_$name seeds=tests/fuzz/corpus/$name regress=tests/fuzz/regress/$name
	[[ -x $bin ]] || { echo "fuzz: no harness $bin" >&2; exit 2; }
	work=build/fuzz/corpus/$name crashes=build/fuzz/crashes/$name
	mkdir -p "$work" "$crashes" "$seeds" "$regress"
	log=build/fuzz/$name.log t0=$(date +%s)
	rc=0
	# Regressions first, each one alone: a crash names its input.
	if compgen -G "$regress/*" >/dev/null; then
		"$bin" -runs=0 "$regress"/* >"$log" 2>&1 || rc=$?
	fi
	if ((rc == 0)); then
		if [[ $mode == time ]]; then
			"$bin" -max_total_time="$amount" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 \
				-artifact_prefix="$crashes/" "$work" "$seeds" >>"$log" 2>&1 || rc=$?
		else
			# A scratch corpus: the run reads the seeds and adds nothing to the tree.
			scratch=$(mktemp -d)
			"$bin" -runs="$amount" -seed=1 -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
				-artifact_prefix="$crashes/" "$scratch" "$seeds" >>"$log" 2>&1 || rc=$?
			rm -rf "$scratch"
		fi
	fi
	execs=$(grep -Eo '^(#[0-9]+|Done [0-9]+ runs)' "$log" | grep -Eo '[0-9]+' | tail -n1)
	s=$(($(date +%s) - t0))
	if ((rc == 0)); then
		rows+=("$name"$'\t'"${execs:-0}"$'\t'"$s"$'\tok')
	else
		fail=1
		rows+=("$name"$'\t'"${execs:-0}"$'\t'"$s"$'\t'"FAIL (rc $rc)")
		echo "fuzz: $name failed; its log:" >&2
		tail -n 40 "$log" >&2
		ls "$crashes" >&2
	fi
done
printf '%-16s %12s %6s  %s\n' harness executions s result
for r in "${rows[@]}"; do
	IFS=$'\t' read -r a b c d <<<"$r"
	printf '%-16s %12s %6s  %s\n' "$a" "$b" "$c" "$d"
done
exit "$fail"
