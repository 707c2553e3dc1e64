#!/usr/bin/env bash
# build-kernel-tests.sh KREL: builds the kernel's own livepatch test modules
# (test_klp_*.c: the patches and target modules of the kernel's livepatch
# selftests) for KREL into build/kernel-tests/KREL/*.ko, from Debian's
# linux-source-MAJOR.MINOR package (/usr/src/linux-source-M.m.tar.xz).
# They are livepatches that lpsentinel did not write, in the shapes real
# patches have (callback- and state-only objects, module targets, a syscall
# patch, atomic replace): tests/vm/cases/klp_corpus.sh uses them.
#
# Only the test_klp_*.c files are taken from the archive (the directory moved
# between versions: lib/livepatch/ in 6.1, tools/testing/selftests/livepatch/
# test_modules/ in 6.12, so it is found by looking), into build/, never into
# the source tree. Scanning the archive takes about a minute, so the sources
# are kept in build/kernel-tests/src/linux-source-M.m/ while the archive is
# unchanged; the modules are rebuilt only when the sources, this script or the
# kernel's headers change (a checksum, as build-fixtures.sh does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
(($# == 1)) || { echo "usage: build-kernel-tests.sh KREL" >&2; exit 2; }
krel=$1
die() { echo "kernel-tests: $*" >&2; exit 1; }
# On the host, or in the sid chroot for sid's kernel (scripts/lab-sid.sh).
lab_sid=$top/scripts/lab-sid.sh
kdir=$("$lab_sid" hdir "$krel") || exit 1
[[ $krel =~ ^([0-9]+)\.([0-9]+)[.-] ]] || die "cannot read MAJOR.MINOR from kernel release '$krel'"
ver=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
pkg=linux-source-$ver
# bookworm's packages are on the host; sid's is in the sid chroot.
tarball=/usr/src/$pkg.tar.xz
[[ -f $tarball ]] || tarball=$("$lab_sid" root)/usr/src/$pkg.tar.xz
[[ -f $tarball ]] || die "no /usr/src/$pkg.tar.xz on the host or in the sid chroot: install the $pkg package (make deps)"

# 1. The test sources of this kernel version, extracted once per archive.
srcs=$top/build/kernel-tests/src/$pkg
src_stamp=$srcs/.extracted
tar_sum=$(stat -c '%n %s %Y' "$tarball" | sha256sum | cut -d' ' -f1)
if [[ ! -e $src_stamp || $(cat "$src_stamp") != "$tar_sum" ]]; then
	rm -rf "$srcs" && mkdir -p "$srcs/tree"
	tar -xJf "$tarball" -C "$srcs/tree" --wildcards '*/test_klp_*.c' ||
		die "extracting test_klp_*.c from $tarball failed"
	mapfile -t dirs < <(find "$srcs/tree" -name 'test_klp_*.c' -printf '%h\n' | sort -u)
	((${#dirs[@]} == 1)) || die "$tarball: want test_klp_*.c in one directory, found ${#dirs[@]}: ${dirs[*]#"$srcs/tree/"}"
	mv "${dirs[0]}"/test_klp_*.c "$srcs/"
	echo "${dirs[0]#"$srcs/tree/"}" >"$srcs/.from"
	rm -rf "$srcs/tree"
	echo "$tar_sum" >"$src_stamp"
fi

# 2. The modules, built out of tree with kbuild in a copy of the sources.
out=$top/build/kernel-tests/$krel
bld=$out/src
stamp=$out/.built
sum=$({
	cd "$srcs" && find . -maxdepth 1 -name 'test_klp_*.c' | LC_ALL=C sort | xargs sha256sum
	sha256sum "$here/build-kernel-tests.sh"
	stat -c '%n %Y' "$kdir/Makefile" "$kdir/include/config/kernel.release" 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
if [[ -e $stamp && $(cat "$stamp") == "$sum" ]]; then
	exit 0
fi
rm -rf "$bld" "$stamp" && rm -f "$out"/*.ko && mkdir -p "$bld"
cp "$srcs"/test_klp_*.c "$bld/"
# Every test_klp_*.c is a module (test_klp_state3.c includes state2's source
# and is built on its own, as the kernel's own Makefile does).
# shellcheck disable=SC2016
echo 'obj-m := $(patsubst %.c,%.o,$(notdir $(wildcard $(src)/test_klp_*.c)))' >"$bld/Kbuild"
if ! "$lab_sid" kbuild "$krel" "$bld" modules >"$out/build.log" 2>&1; then
	echo "kernel-tests: build against $krel failed; $out/build.log:" >&2
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
cp "$bld"/*.ko "$out/"
echo "$pkg $(cat "$srcs/.from")" >"$out/SOURCE"
echo "$sum" >"$stamp"
