#!/usr/bin/env bash
# gate's verdicts that must not revert, with a workload running throughout:
# an equivalent patch is kept; of two functions, exactly the regressing one is
# blamed (the other must not fail). The slow and the failing patch, which must
# be reverted and unloaded, are in gate_revert.sh.
# Exclusive: lp_gate_ok must be kept and lp_gate_two's version_proc_show must
# not fail, verdicts that compare a 4 s baseline window with a 6 s observe
# window: latency (p50/p90 x1.5 and 20 us) and the system run queue (p50/p90
# x2 and 1 ms). The guest's clock is the host's (TCG), so a second guest
# booting or loading the host in only one of the windows moves those figures
# by milliseconds.
# vm-exclusive: yes
# One kernel (6.1): the keep and blame verdicts are the judge's, the same
# code on every kernel; on 6.12 the keep verdicts are proven by gate_signals
# (every check) and gate_sizes, the reverts by gate_revert (all three
# kernels). On 6.12 it took 226 s alone in the last full run.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
start_gate_workload

gate_keep lp_gate_ok
[[ $(verdict lp_gate_ok) == "('pass', 'kept')" ]] || fail "lp_gate_ok: $(verdict lp_gate_ok)"
[[ -e /sys/kernel/livepatch/lp_gate_ok ]] || fail "kept patch is not live"
"$LPS" revert lp_gate_ok --unload >/dev/null
ok "equivalent patch kept: $(check_of lp_gate_ok version_proc_show latency) latency"

# version_proc_show's latency is a timing check that the host can fail
# (gate_keep in lib.sh): blamed with loadavg_proc_show, the gate runs again,
# twice at most.
for try in 1 2 3; do
	gate_case lp_gate_two 3
	[[ $(check_of lp_gate_two loadavg_proc_show latency) == fail ]] || gate_failed lp_gate_two "loadavg not blamed"
	[[ $(check_of lp_gate_two version_proc_show latency) == fail ]] || break
	((try < 3)) || gate_failed lp_gate_two "version_proc_show blamed too, 3 times"
	echo "note: try $try: version_proc_show blamed too: $(json "$WORK/lp_gate_two.json" "[c['detail'] for f in d['functions'] if f['function']=='version_proc_show' for c in f['checks'] if c['check']=='latency'][0]")"
done
ok "two-function patch: loadavg_proc_show blamed, version_proc_show $(check_of lp_gate_two version_proc_show latency)"
