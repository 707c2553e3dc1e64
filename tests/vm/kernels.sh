#!/usr/bin/env bash
# Prints the installed lab kernels (Debian 6.1 and 6.12 generic amd64), one per
# line, oldest first: those with an image in /boot and headers to build against.
set -euo pipefail
for img in /boot/vmlinuz-6.1.* /boot/vmlinuz-6.12.*; do
	[[ -e $img ]] || continue
	krel=${img#/boot/vmlinuz-}
	[[ $krel == *-amd64 && $krel != *-rt-amd64 && $krel != *-cloud-amd64 ]] || continue
	[[ -d /lib/modules/$krel/build ]] || continue
	echo "$krel"
done | sort -V
