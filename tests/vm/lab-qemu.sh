# shellcheck shell=bash
# Sourced by run-in-vm.sh and tests/fleet/fleet.sh, so that one-command guests
# and fleet guests boot the same way: the kernel, the initramfs, the console
# file and the two 9p shares (the host's / read-only, the results directory).

# lab_kernel KREL: fails, saying so, when KREL has no image in /boot.
lab_kernel() {
	[[ -e /boot/vmlinuz-$1 ]] || { echo "vm: no kernel /boot/vmlinuz-$1" >&2; return 1; }
}

# lab_command RESDIR COMMAND: what guest-init.sh runs, in bash, from the
# repository root, which it keeps visible at the same path in the guest.
lab_command() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	printf 'cd %q || exit 125\n%s\n' "$top" "$2" >"$1/cmd"
	printf '%s\n' "$top" >"$1/repo"
}

# lab_qemu_args KREL RESDIR: builds KREL's initramfs when it is out of date and
# sets the array LAB_QEMU_ARGS. The caller adds accel, memory, vCPUs, network.
# VM_CPU=MODEL replaces -cpu max,hypervisor=off (tests/vm/README.md says why);
# VM_VERBOSE=1 puts the kernel's boot messages on the console.
lab_qemu_args() {
	local krel=$1 res=$2 top initrd
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	initrd=$top/build/vm/initramfs-$krel.gz
	"$top/tests/vm/initramfs.sh" "$krel" "$initrd" || return 1	# no-op when up to date
	# shellcheck disable=SC2034,SC2054 # used by the caller; commas are qemu's
	LAB_QEMU_ARGS=(-cpu "${VM_CPU:-max,hypervisor=off}" -no-reboot -display none -monitor none
		-serial "file:$res/console.log"
		-kernel "/boot/vmlinuz-$krel" -initrd "$initrd"
		-append "console=ttyS0 ${VM_VERBOSE:+loglevel=7 }${VM_VERBOSE:-quiet }panic=-1 nokaslr"
		-fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=r,mount_tag=hostroot
		-fsdev local,id=w,path="$res",security_model=none,multidevs=remap
		-device virtio-9p-pci,fsdev=w,mount_tag=results)
}
