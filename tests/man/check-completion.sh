#!/usr/bin/env bash
# The bash completion script (make completion) completes what the binary
# takes: sourced with bash-completion's helpers, its function is called with
# COMP_WORDS and COMP_CWORD set as bash sets them, in a scratch directory of
# .ko, .yaml and .json files and a fake /sys/kernel/livepatch
# ($LPS_LIVEPATCH_DIR, the script's test hook). Every verb's options are
# compared with its --help, and shellcheck reads the script. One line per
# mismatch; exit 1 if any.
#
# usage: check-completion.sh LPSENTINEL COMPLETION-SCRIPT
set -uo pipefail
bin=$(realpath "$1")
script=$(realpath "$2")
helpers=/usr/share/bash-completion/bash_completion
[[ -r $helpers ]] || { echo "check-completion: $helpers missing (apt-get install bash-completion)"; exit 1; }
# shellcheck disable=SC1090
source "$helpers"
# shellcheck disable=SC1090
source "$script"
declare -F _lpsentinel >/dev/null || { echo "check-completion: $script defines no _lpsentinel"; exit 1; }

tmp=$(mktemp -d /tmp/lps-completion.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/work/sub" "$tmp/livepatch/lp_fix_a" "$tmp/livepatch/lp_fix_b"
touch "$tmp/work/patch.ko" "$tmp/work/notes.txt" "$tmp/work/rules.yaml" "$tmp/work/host1.json" \
	"$tmp/livepatch/not_a_patch"
cd "$tmp/work" || exit 1
export LPS_LIVEPATCH_DIR=$tmp/livepatch

failures=0 checks=1
# The script itself: what shellcheck finds in it.
if ! out=$(shellcheck "$script" 2>&1); then
	echo "check-completion: shellcheck $script:"
	echo "$out"
	failures=1
fi

# The completions of a command line, the cursor at its end, sorted, one line.
# Words are split as bash splits them for completion: at blanks, and "=" a word of its own.
complete_line() {
	local line=$1
	COMP_LINE=$line
	COMP_POINT=${#line}
	read -ra COMP_WORDS <<<"${line//=/ = }"
	[[ $line == *[\ =] ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_lpsentinel lpsentinel "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

expect() {
	local line=$1 want=$2 got
	got=$(complete_line "$line")
	checks=$((checks + 1))
	if [[ $got != "$want" ]]; then
		echo "check-completion: '$line<TAB>': got '$got', want '$want'"
		failures=$((failures + 1))
	fi
}

sorted() { tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

verbs=$("$bin" help --verbs | tr '\n' ' ')
expect "lpsentinel " "$(echo "$verbs help --help -h" | sorted)"
expect "lpsentinel g" "gate"
expect "lpsentinel gate --obs" "--observe"
expect "lpsentinel gate " "patch.ko sub"
expect "lpsentinel gate --rules " "rules.yaml sub"
expect "lpsentinel gate --rules=" "rules.yaml sub"
expect "lpsentinel gate -r " "rules.yaml sub"
expect "lpsentinel gate --state " "sub"
expect "lpsentinel gate --baseline " ""
expect "lpsentinel gate patch.ko -- " ""
expect "lpsentinel gate --baseline 3 patch.ko --j" "--json"
expect "lpsentinel trace --mode k" "kprobe kprobe-session"
expect "lpsentinel trace -m fs" "fsession"
expect "lpsentinel revert " "lp_fix_a lp_fix_b"
expect "lpsentinel revert lp_fix_a " "$("$bin" revert --help | grep -oE -- '--[a-z][a-z-]*' | sorted) $("$bin" revert --help | grep -oE -- ' -[a-zA-Z],' | tr -d ' ,' | sorted)"
expect "lpsentinel overhead " "lp_fix_a lp_fix_b patch.ko sub"
expect "lpsentinel overhead --calibrate " "patch.ko sub"
expect "lpsentinel pool " "host1.json sub"
expect "lpsentinel help --man g" "gate"
expect "lpsentinel nosuchverb " ""

# Every verb's options are those of its --help (labels like "-d, --duration SECONDS").
for v in $verbs; do
	want=$("$bin" "$v" --help | sed -n '/^options:/,$p' | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z-]*' |
		tr -d ' ,' | sorted)
	expect "lpsentinel $v -" "$want"
done

# A patch name is data, never code: one holding $(...) and a blank is
# offered quoted, and nothing in it runs.
hostile=$tmp/hostile
mkdir -p "$hostile/lp_\$(touch \${IFS}pwned)" "$hostile/lp_a b"
LPS_LIVEPATCH_DIR=$hostile expect "lpsentinel revert lp_" 'lp_\$\(touch\ \$\{IFS\}pwned\) lp_a\ b'
checks=$((checks + 1))
[[ ! -e pwned ]] || { echo "check-completion: a patch name's \$(...) ran"; failures=$((failures + 1)); }

# The real sysfs, where this machine has it.
if [[ -d /sys/kernel/livepatch ]]; then
	want=$(find /sys/kernel/livepatch -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sorted)
	unset LPS_LIVEPATCH_DIR
	expect "lpsentinel revert " "$want"
	export LPS_LIVEPATCH_DIR=$tmp/livepatch
fi

echo "check-completion: $checks checks (shellcheck, completions), $failures wrong"
((failures == 0))
