#!/bin/sh
# /init of the lab initramfs (busybox sh). Loads the virtio/9p modules listed
# at build time, mounts the host root read-only at /host with tmpfs where
# programs expect to write, mounts the results share at /host/run/lps-results,
# runs the command file from that share chrooted into /host, records its exit
# status and powers off. Without a status file the host reports a failure, so
# every early exit here simply powers off.
# Fleet mode (tests/fleet/fleet.sh), when the results share holds "fleet" (the
# guest's hostname): a network card, a writable root (tmpfs over the host
# root), the repository from its own uncached share, and after the command
# (which starts sshd) the guest stays up until told to power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
die() { echo "lab: $*"; dmesg | tail -n 20; poweroff -f; sleep 10; }
# Loud on failure: a missing transport module shows up as a failed mount below.
for m in $(cat /mods/order); do insmod "/mods/$m" || echo "lab: insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host ||
	die "cannot mount the host root share"
# cache=none: what the guest writes must reach the host even if it hangs later.
mkdir -p /results /repo
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 results /results ||
	die "cannot mount the results share"
# The repository may live under a directory the tmpfs below would hide (a CI
# checkout in /tmp): keep a handle on it and put it back on top.
REPO=$(cat /results/repo)
FLEET=
if [ -f /results/fleet ]; then
	FLEET=$(cat /results/fleet)
	for m in $(cat /mods/fleet-order); do insmod "/mods/$m" || echo "lab: insmod $m failed"; done
	# Ansible installs files anywhere: writes land in tmpfs, the host's
	# files stay untouched. Overlay takes the 9p mount as its lower layer.
	mkdir -p /rw && mount -t tmpfs tmpfs /rw && mkdir /rw/upper /rw/work &&
		mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /host ||
		die "cannot mount the overlay root"
	# Through cache=loose above, a file once read keeps its old contents
	# after the host rewrites it (even replaced by rename), and a fleet lives
	# while the host rebuilds: the repository comes from its own share, uncached.
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=none,msize=262144 repo /repo ||
		die "cannot mount the repository share"
	hostname "$FLEET"
	# qemu's user network: the host forwards its loopback ports to us.
	ip link set lo up && ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up &&
		ip route add default via 10.0.2.2 || die "cannot bring up eth0"
else
	mount --bind "/host$REPO" /repo || die "cannot reach the repository $REPO"
fi
for d in tmp run var/tmp; do mount -t tmpfs tmpfs "/host/$d" || die "cannot mount tmpfs on /$d"; done
if [ -n "$FLEET" ] || [ ! -d "/host$REPO" ]; then
	mkdir -p "/host$REPO" && mount --bind /repo "/host$REPO" || die "cannot restore $REPO"
fi
R=/run/lps-results
mkdir -p "/host$R"
mount --bind /results "/host$R" || die "cannot mount the results share"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm
ln -sf /proc/self/fd /host/dev/fd	# bash process substitution needs it
ln -sf /proc/self/fd/0 /host/dev/stdin
ln -sf /proc/self/fd/1 /host/dev/stdout
ln -sf /proc/self/fd/2 /host/dev/stderr
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tracefs tracefs /host/sys/kernel/tracing
mount -t debugfs debugfs /host/sys/kernel/debug
mount -t bpf bpf /host/sys/fs/bpf
mount -t securityfs securityfs /host/sys/kernel/security
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
# Guest uptime when the command starts: the boot cost of this run.
cut -d' ' -f1 /proc/uptime >"/host$R/boot_s"
# stdin is /dev/null: nothing may wait for console input in an unattended run.
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/tmp LPS_RESULTS=$R LPS_KREL="$(cat /proc/sys/kernel/osrelease)" TERM=dumb LANG=C.UTF-8 \
	/bin/bash "$R/cmd" </dev/null >"/host$R/output" 2>&1
echo $? >"/host$R/status"
sync
if [ -n "$FLEET" ]; then
	# Up until fleet.sh down sends what busybox's poweroff sends init.
	trap 'sync; poweroff -f' USR2
	while :; do sleep 3600 & wait $!; done
fi
poweroff -f
