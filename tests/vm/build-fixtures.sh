#!/usr/bin/env bash
# build-fixtures.sh KREL: builds every module in tests/fixtures against the
# headers of KREL (kbuild obj-m, out of tree) into build/fixtures/KREL/*.ko,
# with the shipped calibration patch (calibration/lps_noop.c) among them.
# The sources are copied to build/fixtures/KREL/src first so kbuild's droppings
# stay out of the source tree. Nothing is rebuilt while the sources, this
# script and the kernel's headers are unchanged (a checksum, not mtimes, so
# deleted or renamed sources count too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
(($# == 1)) || { echo "usage: build-fixtures.sh KREL" >&2; exit 2; }
krel=$1
# On the host, or in the sid chroot for sid's kernel (scripts/lab-sid.sh).
lab_sid=$top/scripts/lab-sid.sh
kdir=$("$lab_sid" hdir "$krel") || exit 1
out=$top/build/fixtures/$krel
src=$out/src
stamp=$out/.built
sum=$(cd "$top/tests/fixtures" && {
	find . -maxdepth 1 -type f | LC_ALL=C sort | xargs sha256sum
	sha256sum "$top/calibration/lps_noop.c"
	sha256sum "$here/build-fixtures.sh"
	stat -c '%n %Y' "$kdir/Makefile" "$kdir/include/config/kernel.release" 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
if [[ -e $stamp && $(cat "$stamp") == "$sum" ]]; then
	exit 0
fi
rm -rf "$src" "$stamp" && rm -f "$out"/*.ko && mkdir -p "$src"
cp "$top"/tests/fixtures/* "$top/calibration/lps_noop.c" "$src/"
if ! "$lab_sid" kbuild "$krel" "$src" modules >"$out/build.log" 2>&1; then
	echo "fixtures: build against $krel failed; $out/build.log:" >&2
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
cp "$src"/*.ko "$out/"
echo "$sum" >"$stamp"
