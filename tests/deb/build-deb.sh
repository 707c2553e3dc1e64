#!/usr/bin/env bash
# build-deb.sh: the Debian package, built by the Debian tools from a copy of
# the working tree as it is (uncommitted changes included), and checked by
# lintian: no error and no warning (none is overridden today; an override
# would go in debian/lpsentinel.lintian-overrides, with its reason).
#
#   build-deb.sh [-o DIR]   export the tree to DIR/src (default build/deb),
#                           build, lintian; the .deb lands in DIR
#   build-deb.sh -s SRC     build SRC, an earlier build's copy that the caller
#                           changed (deb-test.sh: a second version), as it is:
#                           no clean first, so only what changed is rebuilt;
#                           the .deb lands in SRC's parent
#
# dpkg-buildpackage writes its results next to the source, never into the
# checkout's parent. Prints the .deb's path last.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/deb given=''
die() { echo "build-deb: $*" >&2; exit 1; }
while getopts o:s: c; do
	case $c in
	o) out=$(realpath -m "$OPTARG") ;;
	s) given=$(realpath "$OPTARG") && out=$(dirname "$given") ;;
	*) die "usage: build-deb.sh [-o DIR | -s SRC]" ;;
	esac
done
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || die "$t is missing (make deps installs it)"
done

src=${given:-$out/src}
rm -f "$out"/lpsentinel_* "$out"/lpsentinel-dbgsym_*
if [[ -n $given ]]; then
	[[ -f $src/debian/changelog ]] || die "$src: not a source tree"
	nc=--no-pre-clean
else
	# The working tree's files, tracked or new, as they are; not build/.
	rm -rf "$src" && mkdir -p "$src"
	if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # expanded by the inner sh
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
			xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
			tar --null -T - -cf -) | tar -xf - -C "$src"
	else
		tar -C "$top" --exclude=./build --exclude=./lpsentinel -cf - . | tar -xf - -C "$src"
	fi
	nc=
fi
ver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb=$out/lpsentinel_${ver}_$arch.deb

start=$SECONDS
(cd "$src" && dpkg-buildpackage -us -uc -b $nc) >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
[[ -f $deb ]] || die "no $deb after the build (log: $out/build.log)"
# The package build uses Debian's flags (hardening, -Wformat...): still no warning.
if grep -E '(error|warning):' "$out/build.log" >&2; then
	die "the package build printed warnings (log: $out/build.log)"
fi
echo "build-deb: built $(basename "$deb") in $((SECONDS - start)) s" >&2

lintian --fail-on error,warning --info "$deb" >"$out/lintian.log" 2>&1 ||
	{ cat "$out/lintian.log" >&2; die "lintian: errors or warnings on $(basename "$deb")"; }
echo "build-deb: lintian: no errors, no warnings ($(grep -c '^[IPNO]:' "$out/lintian.log" || true) notes in $out/lintian.log)" >&2
echo "$deb"
