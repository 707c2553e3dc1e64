#!/usr/bin/env bash
# rollout-test.sh [-i] [-k KREL] [-o OUTDIR]: the fleet rollout, end to end, on a
# lab fleet of three guests (fleet.sh) with Ansible (deploy/ansible) and
# Prometheus on this host scraping each guest's daemon (deploy/prometheus):
#   1. lpsentinel and its daemon installed on every guest by the role (with
#      -i run twice: the second run must change nothing);
#   2. a harmless patch (lp_gate_ok) rolled out in a wave of one host, then
#      two: kept by every host, continued by every pooled verdict, done;
#   3. a mild patch (lp_fleet_mild), its function called a dozen times a
#      second: waves of one host, then two; each host keeps it (too few calls
#      in a window to call), the pooled verdict of three hosts reverts it on
#      all three and stops the rollout at wave 2;
#   4. a slow patch (lp_gate_slow): the canary's gate reverts it, the rollout
#      stops at wave 1, the other hosts never get it;
#   5. the harmless patch again, Prometheus asked before each wave: the
#      canary's revert in 4 fires LpsentinelPatchReverted, the first wave is
#      refused and nothing is loaded.
# Each step's playbook run, record (record.jsonl) and verdicts are kept in
# OUTDIR (default build/fleet/KREL-TIME); a timeline table ends the output.
# Exit 0 only if every step did what it says. Used by `make fleet-test`
# (part of `make test`, both lab kernels) and `make fleet-demo`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
krel="" out="" idem=0
while getopts ik:o: o; do
	case $o in
	i) idem=1 ;;
	k) krel=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n 's/^# \(rollout-test.sh .*\)$/usage: \1/p' "$0" >&2; exit 2 ;;
	esac
done
[[ -n $krel ]] || krel=$(tests/vm/kernels.sh | grep '^6\.12\.' | tail -n1)
[[ -n $out ]] || out=build/fleet/$krel-$(date +%H%M%S)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# FLEET_REUSE=DIR: a fleet already up with the role installed (a run kept
# with FLEET_KEEP=1), for working on the steps after; nothing is torn down.
fleet=${FLEET_REUSE:-$out/fleet} fx=$top/build/fixtures/$krel
export ANSIBLE_CONFIG=$top/deploy/ansible/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
t_start=$(date +%s) rows=() fails=0 prom_pid=""

say() { printf 'fleet %s: %s\n' "$krel" "$*"; }
ok() { say "ok: $*"; }
bad() { say "FAIL: $*"; fails=$((fails + 1)); }
step() { rows+=("$(printf '%-34s %6ss  %s' "$1" "$2" "$3")"); }
on() { local h=$1; shift; ssh -F "$fleet/ssh_config" "$h" "$@"; }
hosts=(lps-fleet-1 lps-fleet-2 lps-fleet-3)

cleanup() {
	[[ -n $prom_pid ]] && kill "$prom_pid" 2>/dev/null
	[[ -n ${FLEET_REUSE:-}${FLEET_KEEP:-} ]] || tests/fleet/fleet.sh down "$fleet" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# loaded H PATCH: is PATCH a loaded livepatch on host H?
loaded() { on "$1" "test -e /sys/kernel/livepatch/$2"; }

# workload RATE: every guest reads /proc/version (version_proc_show, what
# the patches replace) in a loop; RATE fast, or slow: a pause of 75 ms after
# each read, about a dozen calls a second.
workload() {
	local pause=0 h
	[[ $1 == slow ]] && pause=75000
	for h in "${hosts[@]}"; do
		on "$h" "pkill -x lpload; nohup setsid $top/build/lpload --file /proc/version --procs 1 \
			--seconds 3600 --pause-us $pause >/tmp/lpload.log 2>&1 </dev/null &"
	done
}

# rollout NAME MODULE WAVES WINDOW_S [ansible -e ...]: runs the playbook, each
# gate's baseline and observe windows WINDOW_S; its output, record and
# verdicts in $out/NAME; its exit status in rc.
rollout() {
	local name=$1 ko=$2 waves=$3 win=$4 t0
	rc=0
	shift 4
	t0=$(date +%s)
	ansible-playbook -i "$fleet/inventory.ini" deploy/ansible/rollout.yml \
		-e lp_module="$fx/$ko.ko" -e "{\"lp_waves\": $waves}" -e lp_run_dir="$out/$name" \
		-e lp_baseline_s="$win" -e lp_observe_s="$win" -e lp_rules="$here/fleet-rules.yaml" \
		"$@" >"$out/$name.log" 2>&1 || rc=$?
	step "$name ($ko, waves $waves)" "$(($(date +%s) - t0))" "exit $rc; $(tail_record "$out/$name")"
}

# The record's waves in one line: "w1 continue, w2 stop (why)".
tail_record() {
	python3 - "$1/record.jsonl" <<'EOF'
import json, sys
try:
    lines = [json.loads(l) for l in open(sys.argv[1])]
except OSError:
    print("no record"); sys.exit()
print(", ".join(f"w{r['wave']} {r['decision']}" + (f" ({'; '.join(r['why']) if isinstance(r['why'], list) else r['why']})" if r.get('why') and r['decision'] != 'continue' else "")
                if 'wave' in r else r['decision'] for r in lines))
EOF
}

# record FILE PYEXPR: PYEXPR over the record's lines (r: the list) is true.
record() {
	python3 -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1/record.jsonl" "$2"
}

# --- the fleet, the role, the metrics -------------------------------------
./tests/vm/build-fixtures.sh "$krel" >/dev/null
if [[ -z ${FLEET_REUSE:-} ]]; then
t0=$(date +%s)
tests/fleet/fleet.sh up -n 3 -k "$krel" "$fleet" >"$out/fleet-up.log" 2>&1 ||
	{ cat "$out/fleet-up.log"; bad "the fleet did not come up"; exit 1; }
step "3 guests up, ssh answering" "$(($(date +%s) - t0))" "$(grep -c 'answers ssh' "$out/fleet-up.log" || true) guests"
t0=$(date +%s) rc=0
ansible-playbook -i "$fleet/inventory.ini" deploy/ansible/install.yml \
	-e lpsentinel_listen=0.0.0.0:9464 -e lpsentinel_ip_allow=any >"$out/install.log" 2>&1 || rc=$?
step "role: install, daemon started" "$(($(date +%s) - t0))" "exit $rc"
((rc == 0)) || { tail -n 30 "$out/install.log"; bad "the role failed"; exit 1; }
if ((idem)); then
	t0=$(date +%s) rc=0
	ansible-playbook -i "$fleet/inventory.ini" deploy/ansible/install.yml \
		-e lpsentinel_listen=0.0.0.0:9464 -e lpsentinel_ip_allow=any >"$out/install2.log" 2>&1 || rc=$?
	step "role again: nothing to change" "$(($(date +%s) - t0))" "exit $rc"
	if ((rc == 0)) && grep -q 'changed=0 ' "$out/install2.log" && ! grep -Eq 'changed=[1-9]' "$out/install2.log"; then
		ok "the role is idempotent: a second run changes nothing"
	else
		bad "a second run of the role changed something or failed: $(grep -E 'changed=' "$out/install2.log" | head -3)"
	fi
fi
fi
for h in "${hosts[@]}"; do
	on "$h" "lpsentinel status --state /var/lib/lpsentinel >/dev/null" ||
		bad "$h: no daemon answers after the role"
done

# Prometheus on this host, loopback only, scraping each guest's daemon
# through its forwarded port, with the fleet's alerting rules.
prom_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	echo "global: {scrape_interval: 2s, evaluation_interval: 2s}"
	echo "rule_files: [$top/deploy/prometheus/lpsentinel-alerts.yml]"
	echo "scrape_configs:"
	echo "  - job_name: lpsentinel"
	echo "    static_configs:"
	for h in "${hosts[@]}"; do
		port=$(awk -v h="$h" '$1 == h { sub("lps_metrics_port=", "", $4); print $4 }' "$fleet/inventory.ini")
		echo "      - targets: ['127.0.0.1:$port']"
		echo "        labels: {host: $h}"
	done
} >"$out/prometheus.yml"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prometheus-data" \
	--web.listen-address="127.0.0.1:$prom_port" >"$out/prometheus.log" 2>&1 &
prom_pid=$!
prom=http://127.0.0.1:$prom_port
for _ in $(seq 60); do
	n=$(curl -s "$prom/api/v1/query?query=up%3D%3D1" | python3 -c 'import json, sys
print(len(json.load(sys.stdin)["data"]["result"]))' 2>/dev/null || echo 0)
	((n == 3)) && break
	sleep 2
done
((n == 3)) && ok "Prometheus scrapes the three daemons" || bad "Prometheus scrapes $n of 3 daemons"

# --- 2. a harmless patch, to every host -------------------------------------
workload fast
rollout harmless lp_gate_ok '[1, 2]' 6 -e lp_prometheus_url="$prom"
if ((rc == 0)) && record "$out/harmless" 'len(r) == 3 and [x["decision"] for x in r] == ["continue"] * 2 + ["done"]' &&
	record "$out/harmless" 'all(v["action"] == "kept" for v in r[1]["verdicts"]) and len(r[1]["verdicts"]) == 3'; then
	ok "harmless: two waves, kept by every host and every pooled look"
else
	bad "harmless: exit $rc, $(tail_record "$out/harmless")"
fi
for h in "${hosts[@]}"; do
	loaded "$h" lp_gate_ok || bad "harmless: $h does not have lp_gate_ok live"
	on "$h" "lpsentinel revert lp_gate_ok --unload >/dev/null" || bad "$h: cannot take lp_gate_ok out"
done

# --- 3. a mild patch: each host keeps it, the pool does not ----------------
workload slow
# 10 s windows: a dozen calls a second give each host 100-150 timed calls,
# under the 200 a verdict needs, and the three hosts 300-450.
rollout mild lp_fleet_mild '[1, 2]' 10
if ((rc != 0)) && record "$out/mild" 'len(r) == 2 and r[0]["decision"] == "continue" and r[1]["decision"] == "stop"' &&
	record "$out/mild" 'all(v["action"] == "kept" for v in r[1]["verdicts"]) and len(r[1]["verdicts"]) == 3' &&
	record "$out/mild" 'r[1]["pooled"]["verdict"] == "fail" and sorted(r[1]["reverted"]) == ["lps-fleet-1", "lps-fleet-2", "lps-fleet-3"]'; then
	ok "mild: every host kept it; the pooled verdict of wave 2 reverted it everywhere: $(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(next(c["detail"] for f in d["functions"] for c in f["checks"] if c["result"] == "fail"))' "$out/mild/pool-wave2.json")"
else
	bad "mild: exit $rc, $(tail_record "$out/mild")"
fi
for h in "${hosts[@]}"; do
	loaded "$h" lp_fleet_mild && bad "mild: $h still has lp_fleet_mild"
done

# --- 4. a slow patch: stopped at the canary ----------------------------------
workload fast
rollout slow lp_gate_slow '[1, 2]' 6
if ((rc != 0)) && record "$out/slow" 'len(r) == 1 and r[0]["decision"] == "stop" and r[0]["hosts"] == ["lps-fleet-1"]' &&
	record "$out/slow" 'r[0]["verdicts"][0]["action"] == "reverted"' && [[ ! -e $out/slow/verdicts/lps-fleet-2.json ]]; then
	ok "slow: the canary reverted it, the rollout stopped at wave 1"
else
	bad "slow: exit $rc, $(tail_record "$out/slow")"
fi
for h in "${hosts[@]}"; do
	loaded "$h" lp_gate_slow && bad "slow: $h still has lp_gate_slow"
done

# --- 5. a blocking alert refuses the next wave ------------------------------
for _ in $(seq 30); do
	curl -s "$prom/api/v1/query?query=ALERTS%7Balertname%3D%22LpsentinelPatchReverted%22%2Calertstate%3D%22firing%22%7D" |
		grep -q lps-fleet-1 && break
	sleep 2
done
rollout refused lp_gate_ok '[1, 2]' 6 -e lp_prometheus_url="$prom"
if ((rc != 0)) && record "$out/refused" 'len(r) == 1 and r[0]["decision"] == "refused" and any(a.get("alertname") == "LpsentinelPatchReverted" for a in r[0]["alerts"])'; then
	ok "refused: LpsentinelPatchReverted fires for the canary's revert, wave 1 refused"
else
	bad "refused: exit $rc, $(tail_record "$out/refused")"
fi
for h in "${hosts[@]}"; do
	loaded "$h" lp_gate_ok && bad "refused: $h has lp_gate_ok"
done

echo
echo "fleet $krel timeline (seconds; playbook logs, records and verdicts in $out):"
printf '%s\n' "${rows[@]}"
echo "fleet $krel: $fails failed, $(($(date +%s) - t_start)) s in all"
((fails == 0))
