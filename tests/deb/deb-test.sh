#!/usr/bin/env bash
# deb-test.sh: the Debian package on a clean Debian 12: installed, upgraded to
# a second version and purged, in a fresh minbase chroot of bookworm (root).
#
# The chroot is made once with debootstrap from the bookworm mirror already
# configured in /etc/apt (no mirror host is written here) and kept as a
# tarball, build/deb/bookworm-minbase.tar; each run unpacks a fresh copy,
# build/deb/root (left there when a check fails, for a look; removed on
# success). apt installs the .deb there and fetches its dependencies from the
# archive: the package's Depends must be right for lpsentinel to run at all.
# Services are never started (policy-rc.d), and every chroot command runs in a
# mount namespace of its own, so its /proc mount ends with it.
#
# Version 1 is build/deb/lpsentinel_V_ARCH.deb (`make deb`); version 2 is
# built from its copy (build/deb/src) with a changelog entry and a changed
# default rules file that only the copy gets. One ok/FAIL line per check;
# exit 1 when any failed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$top/build/deb
base=$work/bookworm-minbase.tar
root=$work/root
die() { echo "deb-test: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot)"
start=$SECONDS

arch=$(dpkg --print-architecture)
v1=$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Version 2>/dev/null) ||
	die "no build/deb/src: run make deb first"
v2=$v1+upgrade1
deb1=$work/lpsentinel_${v1}_$arch.deb
deb2=$work/v2/lpsentinel_${v2}_$arch.deb
[[ -f $deb1 ]] || die "no $deb1: run make deb first"

# Nothing may be mounted under a tree before it is removed.
unmounted() {
	! awk -v r="$1" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts ||
		die "something is mounted under $1; unmount it first"
}

in_root() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m -- sh -c 'r=$1; shift
		mount -t proc proc "$r/proc" &&
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

# The base tarball, made once (debootstrap in its own mount namespace too:
# it mounts /proc in the target and may leave it there).
if [[ ! -s $base ]]; then
	uri=$("$top/scripts/install-deps.sh" --mirror-uri)
	[[ -n $uri ]] || die "no bookworm mirror configured in /etc/apt"
	unmounted "$work/base.new"
	rm -rf "$work/base.new"
	echo "deb-test: debootstrap bookworm (minbase) from $uri"
	unshare -m -- debootstrap --variant=minbase bookworm "$work/base.new" "$uri" \
		>"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
	tar -C "$work/base.new" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$work/base.new"
fi

# Version 2: version 1's copy, a changelog entry and a changed default rules
# file (a conffile the administrator has changed too: dpkg must ask, and
# --force-confold keeps theirs). Made again whenever version 1 is newer.
mark2="# deb-test: version 2's default"
if [[ ! $deb2 -nt $deb1 ]]; then
	rm -rf "$work/v2" && mkdir -p "$work/v2"
	cp -a "$work/src" "$work/v2/src"
	c=$work/v2/src/debian/changelog
	{
		printf 'lpsentinel (%s) bookworm; urgency=medium\n\n  * deb-test: the upgrade.\n\n' "$v2"
		printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$c" -S Maintainer)" "$(date -R)"
		cat "$c"
	} >"$c.new" && mv "$c.new" "$c"
	echo "$mark2" >>"$work/v2/src/rules/default.yaml"
	"$top/tests/deb/build-deb.sh" -s "$work/v2/src" >/dev/null
fi

unmounted "$root"
rm -rf "$root" && mkdir -p "$root"
tar -C "$root" -xf "$base"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb1" "$deb2" "$root/tmp/"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; die "apt-get update failed in the chroot"; }
echo "deb-test: chroot ready in $((SECONDS - start)) s"

fails=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+: $2}"; fails=$((fails + 1)); }
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else fail "$what" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
not() { ! "$@"; }
is() { [[ $1 == "$2" ]] || { echo "'$1', not '$2'"; return 1; }; }
exists() { local f; for f; do [[ -e $root$f ]] || { echo "$f missing"; return 1; }; done; }
absent() { local f; for f; do [[ ! -e $root$f && ! -L $root$f ]] || { echo "$f still there"; return 1; }; done; }
# The enabling link points at the unit inside the chroot: read, not followed.
enabled() { is "$(readlink "$root$wants")" /lib/systemd/system/lpsentinel.service; }
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
installed() { in_root dpkg-query -W -f '${Status} ${Version}' lpsentinel; }
wants=/etc/systemd/system/multi-user.target.wants/lpsentinel.service

# --- version 1
check "install $v1 with apt (its dependencies from the archive)" \
	in_root apt-get install -y -qq "/tmp/$(basename "$deb1")"
check "dpkg: $v1 installed" is "$(installed)" "install ok installed $v1"
check "lpsentinel --version: $v1" is "$(in_root lpsentinel --version)" "lpsentinel $v1"
check "lpsentinel --help names --version" in_root sh -c 'lpsentinel --help | grep -q -- --version'
check "binary, unit, rules, dashboards, alerting rules, calibration source, copyright" exists \
	/usr/sbin/lpsentinel /lib/systemd/system/lpsentinel.service /etc/lpsentinel/rules.yaml \
	/usr/share/lpsentinel/dashboards/lpsentinel-fleet.json \
	/usr/share/lpsentinel/dashboards/lpsentinel-functions.json \
	/usr/share/lpsentinel/prometheus/lpsentinel-alerts.yml \
	/usr/share/lpsentinel/calibration/Kbuild /usr/share/lpsentinel/calibration/Makefile \
	/usr/share/lpsentinel/calibration/lps_noop.c /usr/share/doc/lpsentinel/copyright
check "the unit starts /usr/sbin/lpsentinel" \
	grep -q '^ExecStart=/usr/sbin/lpsentinel watch ' "$root/lib/systemd/system/lpsentinel.service"
check "rules.yaml is a conffile" \
	in_root sh -c "dpkg-query -W -f '\${Conffiles}' lpsentinel | grep -q '^ /etc/lpsentinel/rules.yaml '"
check "the service is enabled (dh_installsystemd)" enabled
# Man pages and completion ship where the tree has their generators.
if make -C "$top" -s -n man >/dev/null 2>&1; then
	check "man page" exists /usr/share/man/man8/lpsentinel.8.gz
fi
if make -C "$top" -s -n completion >/dev/null 2>&1; then
	check "bash completion" exists /usr/share/bash-completion/completions/lpsentinel
fi

# --- the administrator's change, then version 2
mark1="# deb-test: the administrator's change"
echo "$mark1" >>"$root/etc/lpsentinel/rules.yaml"
check "upgrade to $v2 (--force-confold)" in_root apt-get install -y -qq \
	-o Dpkg::Options::=--force-confold "/tmp/$(basename "$deb2")"
check "dpkg: $v2 installed" is "$(installed)" "install ok installed $v2"
check "lpsentinel --version: $v2" is "$(in_root lpsentinel --version)" "lpsentinel $v2"
check "the changed rules.yaml is kept" grep -qxF "$mark1" "$root/etc/lpsentinel/rules.yaml"
check "$v2's rules.yaml beside it as rules.yaml.dpkg-dist" \
	grep -qxF "$mark2" "$root/etc/lpsentinel/rules.yaml.dpkg-dist"
check "the service is still enabled" enabled

# --- purge, after the daemon has left its state: every file name the
# daemon's headers define, the state file set aside, a temporary file.
state_files() {
	sed -nE 's/^#define[[:space:]]+[A-Z_]+[[:space:]]+"([^"/]+)".*/\1/p' "$top"/user/daemon/*.h
	echo state.lps.bad
	echo .state.lps.1234.0
}
fake_state() {
	mkdir -m 0700 "$root/var/lib/lpsentinel"
	state_files | while read -r f; do echo x >"$root/var/lib/lpsentinel/$f"; done
}
fake_state
check "purge" in_root apt-get purge -y -qq lpsentinel
check "dpkg: nothing of lpsentinel left" is "$(installed 2>/dev/null || true)" ""
check "dpkg -S finds no lpsentinel file" not in_root dpkg -S lpsentinel
check "/etc/lpsentinel, the state and the service's links are gone" absent /etc/lpsentinel \
	/var/lib/lpsentinel "$wants" /var/lib/systemd/deb-systemd-helper-enabled/lpsentinel.service.dsh-also
check "no path with lpsentinel in its name (but the .debs in /tmp)" is \
	"$(cd "$root" && find . -xdev -name '*lpsentinel*' ! -path './tmp/lpsentinel_*.deb')" ""

# --- a directory the package did not make alone: the lab's sid chroot lives
# in /var/lib/lpsentinel on a development machine; purge keeps it.
check "install $v1 again" in_root apt-get install -y -qq "/tmp/$(basename "$deb1")"
fake_state
mkdir -p "$root/var/lib/lpsentinel/lab-sid" && echo x >"$root/var/lib/lpsentinel/lab-sid/keep"
check "purge again" in_root apt-get purge -y -qq lpsentinel
check "the daemon's files are gone, another's stay" is \
	"$(cd "$root/var/lib/lpsentinel" && find . -mindepth 1 | sort | tr '\n' ' ')" "./lab-sid ./lab-sid/keep "

echo "deb-test: $fails failed, $((SECONDS - start)) s"
((fails == 0)) || { echo "deb-test: the chroot is left in $root"; exit 1; }
unmounted "$root"
rm -rf "$root"
