#!/usr/bin/env bash
# `make install` into a scratch root puts every file where the service unit
# expects it, and systemd accepts the unit (systemd-analyze verify, with its
# paths pointed into the scratch root). Twice: the default PREFIX=/usr/local
# (the unit with the administrator's, in /etc/systemd/system) and the Debian
# package's PREFIX=/usr (the unit in /lib/systemd/system, debian/rules).
set -euo pipefail
root=$(mktemp -d /tmp/lps-install.XXXXXX)
trap 'rm -rf "$root"' EXIT

check() {
	local prefix=$1 unitdir=$2 d=$root/${1//\//_} p f out
	p=${prefix#/}
	make -s install DESTDIR="$d" PREFIX="$prefix" >/dev/null
	for f in "$p/sbin/lpsentinel" "${unitdir#/}/lpsentinel.service" etc/lpsentinel/rules.yaml \
		"$p/share/lpsentinel/dashboards/lpsentinel-fleet.json" \
		"$p/share/lpsentinel/dashboards/lpsentinel-functions.json" \
		"$p/share/lpsentinel/prometheus/lpsentinel-alerts.yml" \
		"$p/share/lpsentinel/calibration/Kbuild" "$p/share/lpsentinel/calibration/Makefile" \
		"$p/share/lpsentinel/calibration/lps_noop.c" \
		"$p/share/man/man8/lpsentinel.8" "$p/share/man/man8/lpsentinel-gate.8" \
		"$p/share/bash-completion/completions/lpsentinel"; do
		[[ -e $d/$f ]] || { echo "install ($prefix): $f missing"; exit 1; }
	done
	# The unit starts the binary this PREFIX installed, and nothing else of /usr/local.
	f=$d$unitdir/lpsentinel.service
	grep -q "^ExecStart=$prefix/sbin/lpsentinel watch " "$f" ||
		{ echo "install ($prefix): the unit does not start $prefix/sbin/lpsentinel"; exit 1; }
	[[ $prefix == /usr/local ]] || ! grep -q /usr/local "$f" ||
		{ echo "install ($prefix): the unit still names /usr/local"; exit 1; }
	# The installed binary runs (and refuses a missing rules file in one line).
	out=$("$d/$p/sbin/lpsentinel" watch --rules /nonexistent 2>&1 || true)
	[[ $out == *"rules: /nonexistent"* ]] || { echo "install ($prefix): the installed binary does not run: $out"; exit 1; }
	sed "s|$prefix/sbin/lpsentinel|$d/$p/sbin/lpsentinel|; s|/etc/lpsentinel|$d/etc/lpsentinel|g" \
		"$f" >"$d/lpsentinel.service"
	out=$(systemd-analyze verify "$d/lpsentinel.service" 2>&1) || { echo "$out"; exit 1; }
	[[ -z $out ]] || { echo "systemd-analyze verify ($prefix): $out"; exit 1; }
}
check /usr/local /etc/systemd/system
check /usr /lib/systemd/system
echo "install: files in place for PREFIX=/usr/local and /usr, systemd-analyze verify accepts both units"
