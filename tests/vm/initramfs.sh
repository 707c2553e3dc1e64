#!/usr/bin/env bash
# initramfs.sh KREL OUT: a busybox initramfs for a lab guest. Its /init loads the
# virtio and 9p modules this kernel needs (in dependency order, as modprobe
# resolves them), mounts the host's / read-only and the results share, and runs
# the test command chrooted into the host root (see guest-init.sh).
set -euo pipefail
krel=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,mods,proc,sys,dev,host}
cp /bin/busybox "$work/bin/busybox"
for app in sh mount mkdir insmod chroot poweroff sync cat echo sleep; do
	ln -s busybox "$work/bin/$app"
done
# modprobe prints "insmod PATH" for each module in load order and "builtin X"
# for what the kernel already has; busybox insmod cannot read .ko.xz, so
# decompress here.
: >"$work/mods/order"
for m in virtio_pci 9pnet_virtio 9p; do modprobe -S "$krel" --show-depends "$m"; done |
while read -r kind path _; do
	[[ $kind == insmod ]] || continue
	name=$(basename "$path"); name=${name%.xz}
	grep -qx "$name" "$work/mods/order" && continue
	case $path in
	*.xz) xz -dc "$path" >"$work/mods/$name" ;;
	*) cp "$path" "$work/mods/$name" ;;
	esac
	echo "$name" >>"$work/mods/order"
done
cp "$here/guest-init.sh" "$work/init"
chmod +x "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
