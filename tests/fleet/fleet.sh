#!/usr/bin/env bash
# fleet.sh: a lab fleet, several guests of one lab kernel that stay up and are
# reachable over ssh on the host's loopback, for what needs machines rather
# than one command: deploying with Ansible, scraping the daemon's metrics.
#   fleet.sh up [-n N] [-k KREL] [-t TIMEOUT_S] DIR
#       boots N guests (default 3) of KREL (default: the newest 6.12 lab
#       kernel) in the background, waits until each answers ssh (default at
#       most 600 s: TCG boots are slow, and slower side by side), and writes
#       DIR/inventory.ini (Ansible, group fleet) and DIR/ssh_config.
#   fleet.sh ssh DIR HOST [CMD...]    same as ssh -F DIR/ssh_config HOST CMD...
#   fleet.sh status DIR               each guest: qemu, memory, ssh, uptime
#   fleet.sh down DIR                 powers each guest off, kills what is left
# The guests are tests/vm lab guests (same kernel, initramfs and 9p shares:
# tests/vm/lab-qemu.sh) in guest-init.sh's fleet mode: hostname lps-fleet-K,
# a writable root (tmpfs over the host's read-only /), the repository at the
# same path as on the host, the lab's mounts (tracefs, bpffs, ...), and sshd
# started by guest-setup.sh for root with the key made here.
# One vCPU and 1 GiB each: the lab host has two cores. Single-threaded TCG, as
# the lab's default (tests/vm/README.md: multi-threaded TCG crashed 6.12
# guests while a livepatch was applied). A guest's RAM ends up all resident
# in qemu, and TCG's code cache may grow to 1 GiB more by default: capped at
# 256 MiB (an Ansible run left 168 MiB of it used), about 1.4 GiB a guest.
# Network: qemu user mode with restrict=on, so a guest reaches nothing, not
# even the host; two forwards from host loopback ports picked free at start
# (two fleets can run at once): SSH -> guest 22, METRICS -> guest 9464.
# DIR/lps-fleet-K/ holds that guest's console.log, qemu.err, qemu.pid, ports,
# boot_s (guest uptime when sshd was started), up_s (host seconds from qemu's
# start to the first ssh), sshd.log, and guest-init.sh's cmd/output/status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$top/tests/vm/lab-qemu.sh"

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}
die() { echo "fleet: $*" >&2; exit 1; }

# guests DIR: the guests' directories, in order.
guests() { find "$1" -maxdepth 1 -name 'lps-fleet-*' -type d | sort -V; }

# qemu_pid GDIR: the pid of the guest's qemu while it runs. Checked against
# its command line, so a reused pid is never taken for it (nor a zombie).
qemu_pid() {
	local pid
	pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 1
	tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qxF "file:$1/console.log" || return 1
	echo "$pid"
}

# running DIR: the names of the guests whose qemu runs, on one line.
running() {
	local g
	for g in $(guests "$1"); do qemu_pid "$g" >/dev/null && printf '%s ' "$(basename "$g")"; done
	return 0
}

# kill_all DIR GRACE_S: TERM to each qemu left, KILL GRACE_S later; then waits
# (10 s at most) until init has reaped them: no qemu left, not even a zombie.
kill_all() {
	local g pid i cmd
	for g in $(guests "$1"); do
		pid=$(qemu_pid "$g") && kill -TERM "$pid" 2>/dev/null
	done
	for ((i = 0; i < $2 * 2; i++)); do
		[[ -z $(running "$1") ]] && break
		sleep 0.5
	done
	for g in $(guests "$1"); do
		pid=$(qemu_pid "$g") && kill -KILL "$pid" 2>/dev/null
	done
	# An exiting qemu soon has an empty command line, then stays a zombie
	# until init reaps it (-daemonize made init its parent), and pgrep still
	# lists it: wait until its pid is gone or another program's.
	for g in $(guests "$1"); do
		pid=$(cat "$g/qemu.pid" 2>/dev/null) || continue
		for ((i = 0; i < 20; i++)); do
			cmd=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline") || break
			[[ -z $cmd ]] || qemu_pid "$g" >/dev/null || break
			sleep 0.5
		done
	done
	return 0
}

# free_ports N: N distinct ports on 127.0.0.1 that nothing listens on now.
free_ports() {
	python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))' "$1"
}

# boot GDIR KREL: starts the guest's qemu in the background on two free
# ports. qemu -daemonize returns once the forwards are bound, so a port taken
# meanwhile (another fleet starting) shows at once: then try other ports.
boot() {
	local g=$1 krel=$2 ssh met
	lab_qemu_args "$krel" "$g"
	for _ in 1 2 3; do
		read -r ssh met < <(free_ports 2)
		if qemu-system-x86_64 -accel tcg,thread=single,tb-size=256 -m 1G -smp 1 "${LAB_QEMU_ARGS[@]}" \
			-fsdev local,id=repo,path="$top",security_model=none,readonly=on,multidevs=remap \
			-device virtio-9p-pci,fsdev=repo,mount_tag=repo \
			-netdev "user,id=n,restrict=on,hostfwd=tcp:127.0.0.1:$ssh-10.0.2.15:22,hostfwd=tcp:127.0.0.1:$met-10.0.2.15:9464" \
			-device virtio-net-pci,netdev=n,romfile= \
			-daemonize -pidfile "$g/qemu.pidfile" </dev/null >/dev/null 2>"$g/qemu.err"; then
			# qemu removes its pidfile when it exits; down needs the pid after.
			cp "$g/qemu.pidfile" "$g/qemu.pid"
			echo "$ssh $met" >"$g/ports"
			return 0
		fi
		grep -q 'host forwarding' "$g/qemu.err" || break
	done
	cat "$g/qemu.err" >&2
	die "$(basename "$g"): qemu did not start"
}

# failed GDIR WHY: says why the guest did not come up, with its console tail.
failed() {
	local g=$1 f
	echo "fleet: $(basename "$g"): $2; last 40 console lines:" >&2
	tail -n 40 "$g/console.log" >&2 || true
	for f in qemu.err output sshd.log; do
		[[ -s $g/$f ]] && { echo "--- $f" >&2; tail -n 20 "$g/$f" >&2; }
	done
	exit 1
}

write_configs() {
	local dir=$1 krel=$2 g name ssh met
	{
		echo "# fleet.sh up: ssh -F $dir/ssh_config lps-fleet-K CMD"
		for g in $(guests "$dir"); do
			read -r ssh met <"$g/ports"
			printf 'Host %s\n\tHostName 127.0.0.1\n\tPort %s\n' "$(basename "$g")" "$ssh"
		done
		# Every guest makes a new host key at boot: nothing to remember.
		printf 'Host *\n\tUser root\n\tIdentityFile "%s"\n' "$dir/id_ed25519"
		printf '\t%s\n' "IdentitiesOnly yes" "BatchMode yes" "StrictHostKeyChecking no" \
			"UserKnownHostsFile /dev/null" "LogLevel ERROR" "ConnectTimeout 30" \
			"ServerAliveInterval 15" "ServerAliveCountMax 8"
	} >"$dir/ssh_config"
	{
		echo "# fleet.sh up: $(guests "$dir" | wc -l) lab guests of $krel on this host's loopback"
		echo "[fleet]"
		for g in $(guests "$dir"); do
			read -r ssh met <"$g/ports"
			name=$(basename "$g")
			echo "$name ansible_host=127.0.0.1 ansible_port=$ssh lps_metrics_port=$met"
		done
		echo
		echo "[fleet:vars]"
		echo "ansible_user=root"
		echo "ansible_ssh_private_key_file=\"$dir/id_ed25519\""
		echo "ansible_python_interpreter=/usr/bin/python3"
		echo "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'"
		echo "lps_krel=$krel"
	} >"$dir/inventory.ini"
}

cmd_up() {
	local n=3 krel="" timeout_s=600 k g name t0 now pending left st o OPTIND=1
	while getopts n:k:t: o; do
		case $o in
		n) n=$OPTARG ;;
		k) krel=$OPTARG ;;
		t) timeout_s=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	(($# == 1)) || usage
	[[ $n =~ ^[1-9][0-9]?$ && $timeout_s =~ ^[1-9][0-9]*$ ]] || usage
	if [[ -z $krel ]]; then
		krel=$("$top/tests/vm/kernels.sh" | grep '^6\.12\.' | tail -n1) ||
			die "no 6.12 lab kernel installed (scripts/install-deps.sh)"
	fi
	lab_kernel "$krel"
	mkdir -p "$1"
	dir=$(cd "$1" && pwd)	# global: the EXIT trap below needs it
	[[ -z $(ls -A "$dir") ]] || die "$dir is not empty (one fleet per directory)"
	[[ -x /usr/sbin/sshd ]] ||
		die "no /usr/sbin/sshd for the guests (scripts/install-deps.sh installs openssh-server)"
	ssh-keygen -q -t ed25519 -N '' -C lps-fleet -f "$dir/id_ed25519"
	# Whatever stops this before every guest answers takes the fleet down.
	trap 'kill_all "$dir" 5' EXIT
	trap 'exit 130' INT TERM
	declare -A start=()
	for ((k = 1; k <= n; k++)); do
		name=lps-fleet-$k g=$dir/lps-fleet-$k
		mkdir "$g"
		echo "$name" >"$g/fleet"	# fleet mode, and the hostname
		cp "$dir/id_ed25519.pub" "$g/authorized_keys"
		lab_command "$g" tests/fleet/guest-setup.sh
		start[$name]=$(date +%s)
		boot "$g" "$krel"
	done
	write_configs "$dir" "$krel"
	echo "fleet: $n guests of $krel booting; waiting for ssh (at most ${timeout_s}s)" >&2

	# The guest writes status once sshd has started: only then try ssh, so
	# that no ssh process competes with the booting guests for the CPUs.
	t0=$(date +%s)
	pending=$(guests "$dir")
	while [[ -n $pending ]]; do
		left=""
		for g in $pending; do
			name=$(basename "$g")
			qemu_pid "$g" >/dev/null || failed "$g" "qemu exited"
			st=$(cat "$g/status" 2>/dev/null || true)
			[[ -z $st || $st == 0 ]] || failed "$g" "starting sshd failed (exit $st)"
			if [[ -n $st ]] && ssh -F "$dir/ssh_config" -o ConnectTimeout=10 "$name" true </dev/null 2>/dev/null; then
				now=$(date +%s)
				echo "$((now - start[$name]))" >"$g/up_s"
				echo "fleet: $name answers ssh after $((now - start[$name])) s (guest booted in $(cat "$g/boot_s") s)" >&2
			else
				left+=" $g"
			fi
		done
		pending=${left# }
		[[ -z $pending ]] && break
		(($(date +%s) - t0 < timeout_s)) || failed "${pending%% *}" "no ssh after ${timeout_s}s"
		sleep 1
	done
	trap - EXIT INT TERM
	echo "fleet: up; $dir/inventory.ini, ssh -F $dir/ssh_config lps-fleet-1, $0 down $dir" >&2
}

cmd_status() {
	local dir=$1 g name pid rss ports up bad=0
	[[ -f $dir/ssh_config ]] || die "$dir holds no fleet"
	printf '%-12s %-8s %-8s %-11s %-9s %s\n' HOST QEMU RSS_MIB SSH/METRICS UP_S SSH
	for g in $(guests "$dir"); do
		name=$(basename "$g")
		ports=$(tr ' ' / <"$g/ports" 2>/dev/null || echo -)
		if pid=$(qemu_pid "$g"); then
			rss=$(awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")
			if up=$(ssh -F "$dir/ssh_config" -o ConnectTimeout=10 "$name" cut -d. -f1 /proc/uptime </dev/null 2>/dev/null); then
				up="ok, guest up ${up}s"
			else
				up=FAILS bad=1
			fi
		else
			pid=- rss=- up="- (qemu not running)" bad=1
		fi
		printf '%-12s %-8s %-8s %-11s %-9s %s\n' "$name" "$pid" "$rss" "$ports" "$(cat "$g/up_s" 2>/dev/null || echo -)" "$up"
	done
	return "$bad"
}

# Down: each guest's init powers off on SIGUSR2 (what busybox's poweroff
# sends), after a sync; whatever still runs after 30 s is killed.
cmd_down() {
	local dir=$1 name i left
	[[ -d $dir ]] || die "no directory $dir"
	for name in $(running "$dir"); do
		timeout 20 ssh -F "$dir/ssh_config" -o ConnectTimeout=10 "$name" 'kill -USR2 1' </dev/null >/dev/null 2>&1 &
	done
	wait
	for ((i = 0; i < 30; i++)); do
		left=$(running "$dir")
		[[ -z $left ]] && break
		sleep 1
	done
	[[ -z $left ]] || echo "fleet: not powered off after 30 s, killing: $left" >&2
	kill_all "$dir" 5
	left=$(running "$dir")
	[[ -z $left ]] || die "qemu still runs for: $left"
	echo "fleet: down ($dir)" >&2
}

(($#)) || usage
sub=$1; shift
case $sub in
up) cmd_up "$@" ;;
ssh)
	(($# >= 2)) || usage
	[[ -d $1/$2 ]] || die "no guest $2 in $1"
	exec ssh -F "$1/ssh_config" "${@:2}" ;;
status) (($# == 1)) || usage; cmd_status "$1" ;;
down) (($# == 1)) || usage; cmd_down "$1" ;;
*) usage ;;
esac
