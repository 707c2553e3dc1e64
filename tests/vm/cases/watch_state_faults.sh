#!/usr/bin/env bash
# The watch daemon's state directory as hostile input: a directory another
# user owns or can write is refused; links planted in it are never followed;
# a full disk (a 64 KiB tmpfs) loses nothing and stops nothing; a state file
# naming 800 functions the kernel does not have starts quickly and survives
# SIGTERM at any point of the startup; a status.json that is a FIFO, a link
# or of the wrong shape is one error line from `status`, exit 1.
# build/lpsentinel.before (optional, or LPS_BEFORE): an older binary, timed on
# the same 800-function startup for comparison.
# vm-timeout: 1200
# One lab kernel (docs/lab.md, "Which kernels"): the input here is hostile to
# lpsentinel's own parsing and loop, the same code on every kernel.
# vm-kernels: 6.1.*
. "$(dirname "$0")/lib.sh"
FN=version_proc_show
LPS_BEFORE=${LPS_BEFORE:-build/lpsentinel.before}
ip link set lo up 2>/dev/null || busybox ip link set lo up	# metrics on 127.0.0.1
# Calls to the watched function, so that it has a baseline to save.
( while :; do read -r _ </proc/version; nap 0.02; done ) >/dev/null 2>&1 &
READER_PID=$!
trap 'kill "$READER_PID" 2>/dev/null || true' EXIT

DAEMON_PID=
start_daemon() {	# start_daemon DIR LOG [BINARY]
	"${3:-$LPS}" watch --state "$1" --function "$FN" --listen 127.0.0.1:9465 2>"$WORK/$2" &
	DAEMON_PID=$!
}
stop_daemon() {	# stop_daemon LOG: SIGTERM, exit 0
	local rc=0
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" || rc=$?
	[[ $rc == 0 ]] || { cat "$WORK/$1"; fail "SIGTERM: exit $rc"; }
}
wait_log() {	# wait_log SECONDS LOG TEXT
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		file_has "$WORK/$2" "$3" && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/$2"; fail "daemon died waiting for '$3'"; }
		nap 0.1
	done
	cat "$WORK/$2"; fail "no '$3' within $1 s"
}
refused() {	# refused DIR TEXT: watch exits 1 at once with one line saying TEXT
	local rc=0
	timeout 30 "$LPS" watch --state "$1" --function "$FN" 2>"$WORK/refused.err" || rc=$?
	[[ $rc == 1 && $(wc -l <"$WORK/refused.err") == 1 ]] && grep -q "$2" "$WORK/refused.err" ||
		{ cat "$WORK/refused.err"; fail "watch --state $1: exit $rc, want 1 and one line with '$2'"; }
}
# state_funcs FILE: how many baselines a state file holds ("bad" when it does not decode)
state_funcs() {
	py - "$1" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
try:
    magic, ver, hs, crc, ccrc, rl, cl = struct.unpack("<8sIIIIQQ", d[:40])
    raw = zlib.decompress(d[40:])
    assert magic == b"LPSSTAT1" and len(raw) == rl and zlib.crc32(raw) == crc and cl == len(d) - 40
    print(struct.unpack("<QQ", raw[112:128])[0])
except Exception as e:
    print("bad")
EOF
}
# with_functions IN OUT N [NAME]: IN's state file with N more baselines, of
# functions this kernel does not have (or all called NAME), written as OUT
with_functions() {
	py - "$@" <<'EOF'
import struct, sys, zlib
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
name = sys.argv[4].encode() if len(sys.argv) > 4 else None
d = open(src, "rb").read()
magic, ver, hs, crc, ccrc, rl, cl = struct.unpack("<8sIIIIQQ", d[:40])
raw = zlib.decompress(d[40:])
nf, np_ = struct.unpack("<QQ", raw[112:128])
assert nf >= 1 and np_ == 0, (nf, np_)
rec = (len(raw) - 128) // nf
first = raw[128:128 + rec]
out = [raw[128:]]
for i in range(n):
    nm = name or b"lps_gone_function_%d" % i
    out.append(nm.ljust(128, b"\0") + first[128:])
raw = raw[:112] + struct.pack("<QQ", nf + n, 0) + b"".join(out)
comp = zlib.compress(raw)
hdr = struct.pack("<8sIIIIQQ", magic, ver, hs, zlib.crc32(raw), zlib.crc32(comp), len(raw), len(comp))
open(dst, "wb").write(hdr + comp)
EOF
}

# 1. A state directory only root can change, or none.
U=$WORK/st-user; mkdir -m 0700 "$U"; chown 65534 "$U"
refused "$U" "owned by uid 65534, not root"
W=$WORK/st-world; mkdir -m 0777 "$W"
refused "$W" "writable by every user"
G=$WORK/st-group; mkdir -m 0770 "$G"
refused "$G" "writable by its group"
ok "a state directory another user owns or can write is refused in one line, exit 1"

# 1b. The rules' memory cap counts --function names too (a file that passes
# alone: 3600 s baselines at 0.1 s looks are 152 MiB for the system's ring).
printf 'defaults:\n  baseline_s: 3600\n  look_interval_s: 0.1\n' >"$WORK/big.yaml"
B=$WORK/st-big; mkdir -m 0700 "$B"
rc=0
timeout 30 "$LPS" watch --state "$B" --rules "$WORK/big.yaml" --function "$FN" 2>"$WORK/big.err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/big.err") == 1 ]] &&
	grep -q 'need 304 MiB of baseline rings, more than 256' "$WORK/big.err" ||
	{ cat "$WORK/big.err"; fail "watch with rings over the cap: exit $rc"; }
ok "rings over the memory cap once --function is counted: $(cat "$WORK/big.err")"

# 2. Links planted in the state directory are never followed.
L=$WORK/st-links; mkdir -m 0700 "$L"
ln -s "$WORK/elsewhere-audit" "$L/audit.jsonl"
refused "$L" "audit trail"
[[ -e $WORK/elsewhere-audit ]] && fail "the audit trail was created through a link"
rm "$L/audit.jsonl"
echo keep >"$WORK/elsewhere-status"
ln -s "$WORK/elsewhere-status" "$L/status.json"
S=$WORK/st; mkdir -m 0700 "$S"
start_daemon "$S" d-first.err
wait_log 300 d-first.err watching
end=$((SECONDS + 120))
until [[ -s $S/status.json ]] && [[ $(json "$S/status.json" "d['functions'][0]['baseline_calls'] > 0") == True ]]; do
	((SECONDS < end)) || { cat "$WORK/d-first.err"; fail "no baseline within 120 s"; }
	nap 0.2
done
stop_daemon d-first.err
[[ $(state_funcs "$S/state.lps") == 1 ]] || fail "first state file: $(state_funcs "$S/state.lps") baselines"
cp "$S/state.lps" "$WORK/state-1.lps"
ln -s "$WORK/state-1.lps" "$L/state.lps"
start_daemon "$L" d-links.err
wait_log 300 d-links.err watching
grep -q "state.lps: is a symbolic link: refused; ignored (kept as state.lps.bad)" "$WORK/d-links.err" ||
	{ cat "$WORK/d-links.err"; fail "a linked state file was not refused"; }
nap 1.5
[[ -f $L/status.json && ! -L $L/status.json && $(cat "$WORK/elsewhere-status") == keep ]] ||
	fail "status.json written through a link"
stop_daemon d-links.err
[[ -L $L/state.lps.bad && $(state_funcs "$WORK/state-1.lps") == 1 ]] || fail "linked state file touched"
ok "links for state.lps, status.json and audit.jsonl: refused or replaced, never followed"

# 3. A damaged name in a state file with good checksums: set aside, said once.
with_functions "$WORK/state-1.lps" "$S/state.lps" 1 'bad name;rm'
start_daemon "$S" d-badname.err
wait_log 300 d-badname.err watching
grep -q "a function name is not a kernel symbol; ignored (kept as state.lps.bad)" "$WORK/d-badname.err" ||
	{ cat "$WORK/d-badname.err"; fail "a state file with a bad name was trusted"; }
stop_daemon d-badname.err
ok "a state file naming a non-symbol: set aside as state.lps.bad in one line"

# 4. 800 functions the kernel does not have: a quick start, and SIGTERM at any point loses nothing.
with_functions "$WORK/state-1.lps" "$WORK/state-801.lps" 800
START_S=
time_start() {	# time_start BINARY LOG: START_S, seconds until the daemon watches
	cp "$WORK/state-801.lps" "$S/state.lps"
	local t0=$EPOCHREALTIME
	start_daemon "$S" "$2" "$1"
	wait_log 600 "$2" watching
	START_S=$(py -c "print(round($EPOCHREALTIME - $t0, 1))")
}
time_start "$LPS" d-801.err
after_s=$START_S
grep -q "state: 801 baselines (800 of functions not traced now, kept)" "$WORK/d-801.err" ||
	{ cat "$WORK/d-801.err"; fail "801 baselines not reported"; }
[[ $(grep -c "not traced" "$WORK/d-801.err") == 2 ]] || { cat "$WORK/d-801.err"; fail "unknown functions not said once"; }
stop_daemon d-801.err
[[ $(state_funcs "$S/state.lps") == 801 ]] || fail "after SIGTERM: $(state_funcs "$S/state.lps") baselines, want 801"
ok "801 baselines, 800 of unknown functions: watching ${after_s} s after start; all 801 kept"
# The older binary read the symbol tables once per unknown name: 90 s of it, counted.
if [[ -n ${LPS_BEFORE:-} && -x ${LPS_BEFORE:-} ]]; then
	cp "$WORK/state-801.lps" "$S/state.lps"
	start_daemon "$S" d-801-before.err "$LPS_BEFORE"
	nap 90
	kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
	n=$(grep -c 'lps_gone_function_[0-9]*: unknown function' "$WORK/d-801-before.err" || true)
	w=$(grep -c watching "$WORK/d-801-before.err" || true)
	ok "before the fix ($LPS_BEFORE): $n of 800 unknown names checked in 90 s (watching: $w)"
fi
for delay in 0.05 0.2 0.5 1 2 3; do
	cp "$WORK/state-801.lps" "$S/state.lps"
	start_daemon "$S" "d-term-$delay.err"
	nap "$delay"
	kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
	n=$(state_funcs "$S/state.lps")
	[[ $n == 801 ]] || { cat "$WORK/d-term-$delay.err"; fail "SIGTERM $delay s into the start: state has $n baselines"; }
done
ok "SIGTERM 0.05 to 3 s into the start: the state file kept its 801 baselines every time"

# 5. A full disk: the old state stays, the daemon runs on, the failure is said and counted.
T=$WORK/st-tiny; mkdir -m 0700 "$T"
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T"
cp "$WORK/state-1.lps" "$T/state.lps"
start_daemon "$T" d-full.err
wait_log 300 d-full.err watching
nap 1.5
dd if=/dev/zero of="$T/fill" bs=4k 2>/dev/null || true
wait_log 60 d-full.err "cannot write $T/status.json: No space left on device"
wait_log 60 d-full.err "cannot write $T/state.lps: No space left on device"
wait_log 60 d-full.err "audit trail: cannot append: No space left on device"
[[ $(state_funcs "$T/state.lps") == 1 ]] || fail "full disk: state file damaged: $(state_funcs "$T/state.lps")"
ls -A "$T" | grep -q '^\.' && fail "full disk: temporary files left: $(ls -A "$T")"
curl -sf http://127.0.0.1:9465/metrics >"$WORK/metrics.txt" || fail "full disk: GET /metrics failed"
errs=$(sed -n 's/^lpsentinel_state_errors_total //p' "$WORK/metrics.txt")
((errs > 0)) || fail "full disk: lpsentinel_state_errors_total is '$errs'"
rm "$T/fill"
wait_log 60 d-full.err "state: state.lps written again"
wait_log 60 d-full.err "audit trail: written again"
grep -q '"event":"state_write_failed","file":"status.json","error":"No space left on device"' "$T/audit.jsonl" ||
	{ cat "$T/audit.jsonl"; fail "the audit trail does not say what failed"; }
grep -q '"event":"audit_write_failed"' "$T/audit.jsonl" || fail "the audit trail does not say it failed"
py -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/audit.jsonl" || fail "a torn audit line"
stop_daemon d-full.err
[[ $(state_funcs "$T/state.lps") == 1 ]] || fail "after the full disk: $(state_funcs "$T/state.lps")"
umount "$T"
ok "64 KiB tmpfs filled up: daemon ran on, state.lps whole, $errs failed writes counted, audit trail says what failed"

# 6. status --state on a hostile status.json: one line, exit 1, at once.
status_refuses() {	# status_refuses DIR TEXT
	local rc=0
	timeout 20 "$LPS" status --state "$1" >/dev/null 2>"$WORK/status.err" || rc=$?
	[[ $rc == 1 && $(wc -l <"$WORK/status.err") == 1 ]] && grep -q "$2" "$WORK/status.err" ||
		{ cat "$WORK/status.err"; fail "status --state $1: exit $rc, want 1 and one line with '$2'"; }
}
H=$WORK/st-hostile; mkdir -m 0700 "$H"
mkfifo "$H/status.json"
status_refuses "$H" "is a FIFO, not a regular file"
rm "$H/status.json"; ln -s /dev/zero "$H/status.json"
status_refuses "$H" "is a symbolic link: refused"
rm "$H/status.json"
echo '{"pid":1,"kernel":"k","uptime_s":1,"listen":null,"functions":5,"patches":[]}' >"$H/status.json"
status_refuses "$H" '"functions" is not what the daemon writes there'
ok "status --state: a FIFO, a link to /dev/zero, a wrong type: one line, exit 1"
