#!/usr/bin/env bash
# The command a fleet guest runs at boot (fleet.sh writes it; guest-init.sh
# runs it chrooted into the guest's writable root, $LPS_RESULTS being this
# guest's directory of the fleet): makes the guest look like a machine of its
# own, then starts sshd for root with the fleet's key.
set -euo pipefail
name=$(hostname)	# guest-init.sh set it
echo "$name" >/etc/hostname
# Its own name resolves (Ansible's facts ask), and no DNS is tried: the user
# network is restricted, so each lookup of the host's nameserver hung 20 s.
# resolv.conf may be a link into the host's /run: replace it.
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost\n' "$name" >/etc/hosts
rm -f /etc/resolv.conf
echo "# a fleet guest has no DNS" >/etc/resolv.conf
# A clean home for root: the host's dotfiles (a .bashrc running pyenv init
# made every ssh command take 4 s) are not the guest's business.
mount -t tmpfs -o mode=0700 tmpfs /root
# sshd: everything it needs lives in tmpfs; the host's /etc/ssh keys and
# config are neither used nor changed. Ed25519 only: an RSA host key takes
# seconds to make under TCG.
d=/run/lps-fleet
# sshd's StrictModes refuses keys under a group- or world-writable directory,
# and guest-init.sh mounts /run as tmpfs (mode 1777): make it what a booted
# system has, rather than turn the check off.
chmod 0755 /run
mkdir -m 0700 "$d"
mkdir -m 0755 /run/sshd	# privilege separation directory
install -m 0600 "$LPS_RESULTS/authorized_keys" "$d/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/ssh_host_ed25519_key"
cat >"$d/sshd_config" <<CONF
HostKey $d/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
# Its log goes to the fleet's directory on the host, for fleet.sh to show.
/usr/sbin/sshd -f "$d/sshd_config" -E "$LPS_RESULTS/sshd.log"
echo "sshd started"
