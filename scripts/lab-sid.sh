#!/usr/bin/env bash
# lab-sid.sh: the VM lab's newest kernel, Debian unstable's (sid's), beside
# bookworm's 6.1 and bookworm-backports' 6.12.
#
# sid's kbuild tools (linux-kbuild-M.m, which its linux-headers depend on) are
# linked against a newer C library than Debian 12's, so modules for that kernel
# cannot be built on the host. They are built in a chroot of sid that holds
# gcc, make, the kernel's headers and its linux-source package:
# LPS_LAB_SID (default /var/lib/lpsentinel/lab-sid), outside any checkout so
# that every clone and worktree shares it. The guest boots the host's
# /boot/vmlinuz-KREL and loads modules from the host's /lib/modules/KREL, so
# the kernel image package is unpacked onto the host (dpkg-deb -x, never
# dpkg -i: a sid package is not installed into bookworm's dpkg database) and
# its module index made with the host's depmod.
#
#   lab-sid.sh install     create or complete the chroot and the host kernel (root)
#   lab-sid.sh have        exit 0 when both are complete (fast: stamp files only)
#   lab-sid.sh krel        print the kernel release the chroot was made for
#   lab-sid.sh root        print the chroot's path
#   lab-sid.sh hdir KREL   print the host path of KREL's headers (the host's
#                          /lib/modules/KREL/build, else the chroot's)
#   lab-sid.sh kbuild KREL DIR [TARGET...]
#                          run kbuild for the external modules in DIR against
#                          KREL's headers, in the chroot when KREL's headers
#                          are there and not on the host
#
# The mirror is the URI already configured in /etc/apt for bookworm; no mirror
# host is written here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${LPS_LAB_SID:-/var/lib/lpsentinel/lab-sid}
# Written last by `install`: the kernel release, once everything is in place.
stamp=$root/.lps-krel
die() { echo "lab-sid: $*" >&2; exit 1; }

krel() {
	[[ -s $stamp ]] || return 1
	cat "$stamp"
}

# The host part is complete when the image, the modules and their index are
# there (a partial unpack leaves no modules.dep: depmod runs last).
have() {
	local k
	k=$(krel) || return 1
	[[ -e /boot/vmlinuz-$k && -e /lib/modules/$k/modules.dep && -d $root/lib/modules/$k/build ]]
}

in_chroot() {
	# A private mount namespace: /proc and /dev for apt and the compilers,
	# gone when the command ends, and never seen by another build.
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m -- sh -c 'r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

install() {
	[[ $(id -u) -eq 0 ]] || die "must run as root"
	command -v debootstrap >/dev/null || die "debootstrap is missing (make deps installs it)"
	local uri=${LPS_MIRROR:-} k ver tmp deb
	if [[ -z $uri ]]; then
		uri=$("$here/install-deps.sh" --mirror-uri)
	fi
	[[ -n $uri ]] || die "no bookworm mirror configured in /etc/apt"
	if [[ ! -x $root/usr/bin/apt-get ]]; then
		# A half-made chroot (an interrupted debootstrap) is made again.
		rm -rf "$root.new" && mkdir -p "$(dirname "$root")"
		debootstrap --variant=minbase --include=gcc,make,libc6-dev,xz-utils,ca-certificates \
			sid "$root.new" "$uri" >"$root.new.log" 2>&1 ||
			{ tail -n 20 "$root.new.log" >&2; die "debootstrap of sid from $uri failed (log: $root.new.log)"; }
		rm -rf "$root" && mv "$root.new" "$root" && mv "$root.new.log" "$root/.lps-debootstrap.log"
	fi
	# The mirror's copy of sid may be older than its Release file's week of
	# validity: the signature is still checked, the date is not.
	echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99lpsentinel"
	echo "deb $uri sid main" >"$root/etc/apt/sources.list"
	in_chroot apt-get update -qq
	in_chroot apt-get install -y -qq --no-install-recommends linux-headers-amd64
	# The newest generic amd64 headers in the chroot name the kernel.
	k=$(find "$root/usr/src" -maxdepth 1 -name 'linux-headers-*-amd64' -printf '%f\n' |
	    sed 's/^linux-headers-//' | grep -Ev -- '-(rt|cloud)-amd64$' | sort -V | tail -n1)
	[[ -n $k ]] || die "no linux-headers-*-amd64 in the sid chroot"
	[[ $k =~ ^([0-9]+)\.([0-9]+)[.-] ]] || die "cannot read MAJOR.MINOR from '$k'"
	ver=${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
	# Its sources, for the kernel's own livepatch test modules; sid may lack
	# them for a while after a new kernel lands (build-kernel-tests.sh says so).
	if in_chroot apt-cache show "linux-source-$ver" >/dev/null 2>&1; then
		in_chroot apt-get install -y -qq --no-install-recommends "linux-source-$ver"
	else
		echo "lab-sid: sid has no linux-source-$ver: the kernel's livepatch test modules cannot be built for $k" >&2
	fi
	# The image, unpacked onto the host: /boot/vmlinuz-$k, /lib/modules/$k.
	# sid splits it: linux-image-$k only depends on linux-binary-$k (the
	# vmlinuz), linux-modules-$k and linux-base-$k (modules.builtin, which
	# the initramfs needs to know virtio_pci is built in, modules.order,
	# config); older layouts have it all in one. Every package of this
	# kernel that the image depends on is unpacked.
	if [[ ! -e /lib/modules/$k/modules.dep || ! -e /boot/vmlinuz-$k ]]; then
		local pkgs=(linux-image-"$k") mods vmlinuz
		mapfile -t -O 1 pkgs < <(in_chroot apt-cache show --no-all-versions "linux-image-$k" |
			sed -n 's/^Depends: //p' | tr ',|' '\n' | awk -v k="-$k" '$1 ~ /^linux-[a-z]+-/ && substr($1, length($1) - length(k) + 1) == k { print $1 }' | sort -u)
		rm -rf "$root/tmp/lps-image" && mkdir -p "$root/tmp/lps-image"
		in_chroot sh -c 'cd /tmp/lps-image && apt-get download -qq -o APT::Sandbox::User=root "$@"' sh "${pkgs[@]}" ||
			die "cannot download ${pkgs[*]}"
		tmp=$(mktemp -d)
		for deb in "$root"/tmp/lps-image/*.deb; do
			dpkg-deb -x "$deb" "$tmp"
		done
		# Merged /usr or not, the modules are under (usr/)lib/modules/$k; the
		# kernel is boot/vmlinuz-$k, or (sid since its split) the modules
		# directory's vmlinuz, which the guest boots as /boot/vmlinuz-$k.
		mods=$(find "$tmp" -maxdepth 4 -type d -path "*/lib/modules/$k" | head -n1)
		vmlinuz=$tmp/boot/vmlinuz-$k
		[[ -f $vmlinuz || -z $mods ]] || vmlinuz=$mods/vmlinuz
		[[ -n $mods && -f $vmlinuz ]] ||
			{ rm -rf "$tmp"; die "${pkgs[*]} hold no vmlinuz or lib/modules/$k"; }
		rm -rf "/lib/modules/$k" && cp -a "$mods" "/lib/modules/$k"
		[[ ! -d $tmp/boot ]] || cp -a "$tmp/boot/." /boot/
		cp "$vmlinuz" "/boot/vmlinuz-$k.new" && mv "/boot/vmlinuz-$k.new" "/boot/vmlinuz-$k"
		rm -rf "$tmp" "$root/tmp/lps-image"
		depmod "$k" || die "depmod $k failed"
	fi
	echo "$k" >"$stamp"
	echo "lab-sid: kernel $k ready (chroot $root)"
}

# hdir KREL: where KREL's headers are, seen from the host. The chroot's
# /lib/modules/KREL/build is an absolute link that means something only inside.
hdir() {
	local k=$1 l
	if [[ -d /lib/modules/$k/build ]]; then
		echo "/lib/modules/$k/build"
		return
	fi
	l=$(readlink "$root/lib/modules/$k/build" 2>/dev/null) || die "no headers for $k on the host or in $root (make deps)"
	[[ $l == /* ]] || l=/lib/modules/$k/$l
	[[ -d $root$l ]] || die "no headers for $k on the host or in $root (make deps)"
	echo "$root$l"
}

# kbuild KREL DIR [TARGET...]: DIR is bound at /lps-build inside the chroot,
# in a mount namespace of its own, so builds of several checkouts at once do
# not see each other's.
kbuild() {
	local k=$1 dir=$2
	shift 2
	(($# > 0)) || set -- modules
	if [[ -d /lib/modules/$k/build ]]; then
		make -C "/lib/modules/$k/build" M="$dir" "$@"
		return
	fi
	[[ -d $root/lib/modules/$k/build ]] || die "no headers for $k on the host or in $root (make deps)"
	mkdir -p "$root/lps-build"
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m -- sh -c 'r=$1 d=$2 k=$3; shift 3
		mount --bind "$d" "$r/lps-build" && mount -t proc proc "$r/proc" &&
		mount --rbind /dev "$r/dev" &&
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C.UTF-8 \
			make -C "/lib/modules/$k/build" M=/lps-build "$@"' sh "$root" "$dir" "$k" "$@"
}

case ${1:-} in
install) install ;;
have) have ;;
krel) krel ;;
root) echo "$root" ;;
hdir) (($# == 2)) || die "usage: lab-sid.sh hdir KREL"; hdir "$2" ;;
kbuild) (($# >= 3)) || die "usage: lab-sid.sh kbuild KREL DIR [TARGET...]"; shift; kbuild "$@" ;;
*) echo "usage: lab-sid.sh install|have|krel|root|hdir KREL|kbuild KREL DIR [TARGET...]" >&2; exit 2 ;;
esac
