#!/usr/bin/env bash
# make demo: the main job in the VM lab. Boots each lab kernel (the host cannot
# trace kernel functions), runs a workload that reads /proc files, and traces
# the kernel functions behind them with lpsentinel, printing their histograms.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
guest='
build/lpload --file /proc/version --procs 2 --seconds 12 >/tmp/load.version &
build/lpload --file /proc/cmdline --procs 1 --seconds 12 >/tmp/load.cmdline &
sleep 1
./lpsentinel trace version_proc_show cmdline_proc_show seq_read_iter -d 6
wait
echo "workload: version $(cat /tmp/load.version)"
echo "workload: cmdline $(cat /tmp/load.cmdline)"
'
for krel in $("$here/kernels.sh"); do
	echo "=== lpsentinel trace in a guest running Linux $krel"
	"$here/run-in-vm.sh" -t 300 "$krel" "$guest"
done
