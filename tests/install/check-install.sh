#!/usr/bin/env bash
# `make install` into a scratch root puts every file where the service unit
# expects it, and systemd accepts the unit (systemd-analyze verify, with its
# paths pointed into the scratch root).
set -euo pipefail
root=$(mktemp -d /tmp/lps-install.XXXXXX)
trap 'rm -rf "$root"' EXIT
make -s install DESTDIR="$root" >/dev/null
for f in usr/local/sbin/lpsentinel etc/systemd/system/lpsentinel.service etc/lpsentinel/rules.yaml \
	usr/local/share/lpsentinel/dashboards/lpsentinel-fleet.json \
	usr/local/share/lpsentinel/dashboards/lpsentinel-functions.json \
	usr/local/share/lpsentinel/prometheus/lpsentinel-alerts.yml \
	usr/local/share/man/man8/lpsentinel.8 usr/local/share/man/man8/lpsentinel-gate.8 \
	usr/local/share/bash-completion/completions/lpsentinel; do
	[[ -e $root/$f ]] || { echo "install: $f missing"; exit 1; }
done
# The installed binary runs (and refuses a missing rules file in one line).
out=$("$root/usr/local/sbin/lpsentinel" watch --rules /nonexistent 2>&1 || true)
[[ $out == *"rules: /nonexistent"* ]] || { echo "install: the installed binary does not run: $out"; exit 1; }
sed "s|/usr/local/sbin/lpsentinel|$root/usr/local/sbin/lpsentinel|; s|/etc/lpsentinel|$root/etc/lpsentinel|g" \
	"$root/etc/systemd/system/lpsentinel.service" >"$root/lpsentinel.service"
out=$(systemd-analyze verify "$root/lpsentinel.service" 2>&1) || { echo "$out"; exit 1; }
[[ -z $out ]] || { echo "systemd-analyze verify: $out"; exit 1; }
echo "install: files in place, systemd-analyze verify accepts lpsentinel.service"
