#!/usr/bin/env bash
# make demo: the main job in the VM lab (the host cannot livepatch). In a guest
# of each lab kernel, under a workload reading /proc files: trace the kernel
# functions behind them, then gate two real livepatches of version_proc_show,
# an equivalent one (kept) and a slow one (reverted), with their before/after
# histograms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
guest='
FX=build/fixtures/$LPS_KREL
build/lpload --file /proc/version --procs 2 --seconds 300 --pause-us 50 >/dev/null &
build/lpload --file /proc/cmdline --procs 1 --seconds 300 --pause-us 50 >/dev/null &
sleep 1
echo "### lpsentinel trace version_proc_show cmdline_proc_show seq_read_iter -d 5"
./lpsentinel trace version_proc_show cmdline_proc_show seq_read_iter -d 5
echo; echo "### lpsentinel gate lp_gate_ok.ko (an equivalent replacement)"
./lpsentinel gate $FX/lp_gate_ok.ko --baseline 4 --observe 4; echo "exit status $?"
./lpsentinel revert lp_gate_ok --unload
echo; echo "### lpsentinel gate lp_gate_slow.ko (a much slower replacement)"
./lpsentinel gate $FX/lp_gate_slow.ko --baseline 4 --observe 4; echo "exit status $?"
pkill -x lpload || true
'
for krel in $("$here/kernels.sh"); do
	"$here/build-fixtures.sh" "$krel"
	echo "=== lpsentinel in a guest running Linux $krel"
	"$here/run-in-vm.sh" -t 600 "$krel" "$guest"
done
