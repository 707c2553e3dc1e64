#!/usr/bin/env bash
# initramfs.sh KREL OUT: a busybox initramfs (cpio newc, gzip) for a lab guest
# running kernel KREL. Its /init (guest-init.sh) loads the virtio and 9p modules
# this kernel needs, in dependency order as modprobe resolves them from
# modules.dep/modules.builtin, mounts the host's / read-only and the results
# share, and runs the test command chrooted into the host root. It also holds
# virtio_net and overlay, which only fleet guests load (tests/fleet/fleet.sh).
# OUT is kept when it is newer than this script, guest-init.sh and the kernel's
# modules.dep, so callers may run this before every boot.
set -euo pipefail
(($# == 2)) || { echo "usage: initramfs.sh KREL OUTFILE" >&2; exit 2; }
krel=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
moddir=/lib/modules/$krel
[[ -f $moddir/modules.dep ]] || { echo "initramfs: no modules for $krel ($moddir)" >&2; exit 1; }
if [[ -s $out && $out -nt $here/initramfs.sh && $out -nt $here/guest-init.sh &&
	$out -nt $moddir/modules.dep ]]; then
	exit 0
fi
bb=/bin/busybox
[[ -x $bb ]] || { echo "initramfs: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
# The guest has no dynamic loader: the busybox must be static.
if ldd "$bb" >/dev/null 2>&1; then echo "initramfs: $bb is not static" >&2; exit 1; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,mods,proc,sys,dev,host,tmp}
cp "$bb" "$work/bin/busybox"
for app in $("$bb" --list); do [[ $app == busybox ]] || ln -s busybox "$work/bin/$app"; done

# modprobe --show-depends prints "insmod PATH" per module in load order and
# "builtin NAME" for what the kernel has built in (virtio_pci on 6.12).
# busybox insmod cannot read .ko.xz/.ko.zst, so decompress here.
# pack LIST MODULE...: appends what MODULEs need to /mods/LIST, in load order,
# skipping what an earlier list already loads.
pack() {
	local list=$work/mods/$1 m kind path name; shift
	: >"$list"
	for m in "$@"; do
		modprobe -S "$krel" --show-depends "$m" ||
			{ echo "initramfs: modprobe cannot resolve $m for $krel" >&2; exit 1; }
	done >"$work/deps"
	while read -r kind path _; do
		[[ $kind == insmod ]] || continue
		name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
		[[ -e $work/mods/$name ]] && continue
		case $path in
		*.xz) xz -dc "$path" >"$work/mods/$name" ;;
		*.zst) zstd -qdc "$path" >"$work/mods/$name" ;;
		*) cp "$path" "$work/mods/$name" ;;
		esac
		echo "$name" >>"$list"
	done <"$work/deps"
}
pack order virtio_pci 9pnet_virtio 9p
# Only fleet guests (tests/fleet/fleet.sh) load these: a network card for
# sshd and overlayfs for a writable root.
pack fleet-order virtio_net overlay
cp "$here/guest-init.sh" "$work/init"
chmod +x "$work/init"
mkdir -p "$(dirname "$out")"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
