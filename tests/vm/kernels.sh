#!/usr/bin/env bash
# Prints the installed lab kernels, one per line, oldest first: Debian's
# generic amd64 6.1 and 6.12 with an image in /boot and headers to build
# against, and sid's newest kernel (scripts/lab-sid.sh) once its image and
# modules are unpacked on the host and its headers are in the sid chroot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
{
	for img in /boot/vmlinuz-6.1.* /boot/vmlinuz-6.12.*; do
		[[ -e $img ]] || continue
		krel=${img#/boot/vmlinuz-}
		[[ $krel == *-amd64 && $krel != *-rt-amd64 && $krel != *-cloud-amd64 ]] || continue
		[[ -d /lib/modules/$krel/build ]] || continue
		echo "$krel"
	done
	if "$here/../../scripts/lab-sid.sh" have 2>/dev/null; then
		"$here/../../scripts/lab-sid.sh" krel
	fi
} | sort -uV
