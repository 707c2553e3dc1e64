#!/usr/bin/env bash
# Installs every Debian package that the build, the VM lab and the tests need,
# including the two lab kernels: bookworm's 6.1 and bookworm-backports' 6.12.
# linux-source-6.1 and -6.12 carry the kernel's own livepatch test modules,
# which tests/vm/build-kernel-tests.sh builds for the lab kernels (both are in
# bookworm-security).
# The third lab kernel, Debian unstable's newest, comes with a sid chroot to
# build its modules in (scripts/lab-sid.sh, run last; debootstrap is why).
# openssh-server, ansible-core and ansible-lint are for the lab fleet
# (tests/fleet/fleet.sh, deploy/ansible): its guests run the host's
# /usr/sbin/sshd with a config of their own. The host's own sshd is neither
# started nor enabled by installing it here (policy-rc.d, below).
# The backports suite and the sid chroot reuse the mirror URI already
# configured in /etc/apt, so no mirror host is ever written into this project.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pkgs=(make gcc clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev libcmocka-dev
      libyaml-dev libjson-c-dev libmicrohttpd-dev pkg-config qemu-system-x86 busybox-static cpio xz-utils kmod
      bpftrace bpfcc-tools python3 prometheus curl systemd linux-image-amd64 linux-headers-amd64
      linux-source-6.1 linux-source-6.12 debootstrap openssh-server openssh-client ansible-core ansible-lint)
pkgs+=(man-db groff-base bash-completion shellcheck)  # make man-test: man --warnings, groff, the completion's helpers
pkgs+=(debhelper dpkg-dev lintian)  # make deb: dpkg-buildpackage with debhelper, lintian (deb-test: debootstrap, above)
pkgs+=(chromium chromium-driver python3-selenium python3-pil)  # make report-test: the HTML report in a real browser

die() { echo "install-deps: $*" >&2; exit 1; }

# Mirror URI of the main bookworm suite, from deb822 sources or a one-line list.
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		uri=$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm([ \n]|$)/ && !/security/ {
			for (i = 1; i <= NF; i++) if ($i == "URIs:") { print $(i+1); exit } }' "$f")
		[[ -n $uri ]] && { echo "$uri"; return; }
	done
	awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
}

# --mirror-uri: for scripts/lab-sid.sh, which makes its sid chroot from it.
if [[ ${1:-} == --mirror-uri ]]; then
	mirror_uri
	exit 0
fi

# --if-missing: quick check first, so `make test` and `make demo` can call this
# every time and only pay for apt when something is really missing.
have_all() {
	dpkg -s "${pkgs[@]}" >/dev/null 2>&1 || return 1
	ls /boot/vmlinuz-6.12.*-amd64 2>/dev/null | grep -Evq -- '-(rt|cloud)-amd64$' || return 1
	ls /boot/vmlinuz-6.1.*-amd64 >/dev/null 2>&1 || return 1
	"$here/lab-sid.sh" have
}
if [[ ${1:-} == --if-missing ]] && have_all; then
	exit 0
fi
[[ $(id -u) -eq 0 ]] || die "must run as root to install packages"

backports_list=/etc/apt/sources.list.d/lpsentinel-bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	uri=$(mirror_uri)
	[[ -n $uri ]] || die "no bookworm mirror configured in /etc/apt; cannot add bookworm-backports"
	echo "deb $uri bookworm-backports main" > "$backports_list"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The lab needs sshd's binary, not a service on this host: while installing,
# no package may start a service (policy-rc.d: 101), and an sshd this script
# installed is not enabled at boot either.
had_sshd=0
dpkg -s openssh-server >/dev/null 2>&1 && had_sshd=1
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
if ((!had_sshd)) && command -v systemctl >/dev/null; then
	systemctl disable ssh.service >/dev/null 2>&1 || true
fi

# 6.12 lab kernel: newest generic (not -rt, not -cloud) 6.12 unsigned image and
# its headers from backports.
if ! ls /boot/vmlinuz-6.12.*-amd64 2>/dev/null | grep -Evq -- '-(rt|cloud)-amd64$'; then
	img=$(apt-cache search --names-only '^linux-image-6\.12\..*-amd64-unsigned$' |
	      awk '{print $1}' | grep -Ev -- '-(rt|cloud)-amd64' | sort -V | tail -n1)
	[[ -n $img ]] || die "no linux-image-6.12.*-amd64-unsigned in bookworm-backports"
	krel=${img#linux-image-}; krel=${krel%-unsigned}
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		"$img" "linux-headers-$krel"
fi
# The newest lab kernel, sid's, and the chroot its modules are built in.
"$here/lab-sid.sh" install
echo "install-deps: done"
