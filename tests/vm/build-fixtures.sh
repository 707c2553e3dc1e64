#!/usr/bin/env bash
# build-fixtures.sh KREL: builds every module in tests/fixtures against the
# headers of KREL (kbuild, out of tree) into build/fixtures/KREL/*.ko. The
# sources are copied first so kbuild's droppings stay out of the source tree;
# nothing is rebuilt when no source changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
krel=$1
kdir=/lib/modules/$krel/build
[[ -d $kdir ]] || { echo "fixtures: no headers for $krel ($kdir)" >&2; exit 1; }
out=$top/build/fixtures/$krel
src=$out/src
mkdir -p "$src"
stamp=$out/.built
if [[ -e $stamp ]] && [[ -z $(find "$top/tests/fixtures" -newer "$stamp" -type f) ]]; then
	exit 0
fi
rm -rf "$src" && mkdir -p "$src"
cp "$top"/tests/fixtures/* "$src/"
make -s -C "$kdir" M="$src" modules >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
cp "$src"/*.ko "$out/"
touch "$stamp"
