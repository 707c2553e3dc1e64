#!/bin/sh
# /init of the lab initramfs (busybox sh). Mounts the host root read-only at
# /host with writable tmpfs where programs expect to write, the results share
# at /host/run/lps-results, then runs the command file from the results share
# chrooted into /host, records its exit status and powers off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || {
	echo "lab: cannot mount host root"; poweroff -f; }
for d in tmp run var/tmp; do mount -t tmpfs tmpfs /host/$d; done
mkdir -p /host/run/lps-results
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 results /host/run/lps-results
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm
ln -sf /proc/self/fd /host/dev/fd	# bash process substitution needs it
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tracefs tracefs /host/sys/kernel/tracing
mount -t debugfs debugfs /host/sys/kernel/debug
mount -t bpf bpf /host/sys/fs/bpf
mount -t securityfs securityfs /host/sys/kernel/security
R=/run/lps-results
chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/tmp LPS_RESULTS=$R LPS_KREL="$(cat /proc/sys/kernel/osrelease)" TERM=dumb \
	/bin/bash $R/cmd >/host$R/output 2>&1
echo $? >/host$R/status
sync
poweroff -f
