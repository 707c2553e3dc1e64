#!/usr/bin/env python3
"""README's cost table, from make bench's figures.

    bench-table.py BENCH_JSON            print the table (markdown)
    bench-table.py BENCH_JSON --update F replace the table between F's markers

BENCH_JSON is build/bench/bench.json: {"<kernel release>": {"<configuration>":
{"added_per_call", "x_floor", "cpu_share", "self_share", "probe_share", ...}}}. One row per configuration
that any kernel measured, one column pair per kernel; a configuration a kernel
did not run shows "-". The table is never typed by hand: make bench rewrites it.
"""
import json
import os
import sys

BEGIN = "<!-- bench-table: begin (tests/bench/bench-table.py writes this; do not edit) -->"
END = "<!-- bench-table: end -->"

# Configurations in reading order, with what each is; others follow by name.
NAMES = [
    ("untraced", "untraced"),
    ("floor", "empty fentry+fexit pair (the floor)"),
    ("floor-lookup", "the floor + a per-CPU array lookup at each end"),
    ("floor-clock", "the floor + `bpf_ktime_get_ns` at each end"),
    ("lpsentinel", "lpsentinel trace `--no-signals` (automatic method: fsession on 7.x, fentry before)"),
    ("lpsentinel-probe", "lpsentinel's fentry+fexit programs alone"),
    ("floor-fsession", "empty fsession program (the session floor)"),
    ("lpsentinel-probe-fsession", "lpsentinel's fsession program alone"),
    ("lpsentinel-fentry", "lpsentinel trace `--mode fentry`"),
    ("lpsentinel-fsession", "lpsentinel trace `--mode fsession`"),
    ("lpsentinel-session", "lpsentinel trace `--mode kprobe-session`"),
    ("lpsentinel-kprobe", "lpsentinel trace `--mode kprobe`"),
    ("lpsentinel-signals", "lpsentinel trace, health signals on"),
    ("lpsentinel-budget", "lpsentinel trace `--cpu-budget 1` (hot mode)"),
    ("watch", "lpsentinel watch (the daemon)"),
    ("bpftrace", "bpftrace kfunc/kretfunc + hist()"),
    ("bcc", "bcc funclatency (kprobe/kretprobe)"),
    ("noop-livepatch", "no-op livepatch (the redirection alone)"),
    ("probe-unpatched", "lpsentinel's programs alone, no patch (probe-bias run)"),
    ("probe-patched", "the same probes with the no-op patch in"),
    ("probe-bias", "what the patch changes in the probes' own cost"),
    ("hot-untraced", "hot function (`__do_sys_getpid`): untraced"),
    ("hot-floor", "hot function: the floor"),
    ("hot-lpsentinel", "hot function: lpsentinel trace `--no-signals`"),
    ("hot-kprobe", "hot function: lpsentinel trace `--mode kprobe` (a budget's windows)"),
    ("hot-budget", "hot function: lpsentinel trace `--cpu-budget 1`"),
    ("hot-watch-budget", "hot function: lpsentinel watch `--cpu-budget 1` (the daemon)"),
]


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(bench):
    kernels = sorted(bench)
    known = [k for k, _ in NAMES]
    seen = {c for kr in kernels for c in bench[kr]}
    order = [k for k in known if k in seen]
    label = dict(NAMES)
    head = "| configuration | " + " | ".join(
        f"{kr}: added per call | x floor | vCPU at the bench's rate" for kr in kernels) + " |"
    rule = "|---|" + "---|---|---|" * len(kernels)
    rows = [head, rule]
    for c in order:
        cells = []
        for kr in kernels:
            f = bench[kr].get(c)
            if f is None:
                cells += ["-", "-", "-"]
                continue
            share = f.get("cpu_share")
            if c.endswith("untraced"):	# the reference itself: nothing added
                cells += [fmt(f.get("added_per_call"), ".0f"), "-", "-"]
                continue
            vcpu = "-" if share is None else f"{share * 100:.2f} %"
            # lpsentinel's own process beside the probes (self_share), where
            # measured: the probes' share of the workload's vCPU without it
            if share is not None and f.get("self_share") is not None and f.get("probe_share") is not None:
                vcpu += f" (probes {f['probe_share'] * 100:.2f} %, process {f['self_share'] * 100:.2f} %)"
            cells += [fmt(f.get("added_per_call"), ".0f"), fmt(f.get("x_floor"), ".2f"), vcpu]
        rows.append(f"| {label.get(c, c)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--update"):
        print("usage: bench-table.py BENCH_JSON [--update FILE]", file=sys.stderr)
        return 2
    try:
        bench = json.load(open(argv[1]))
        if not isinstance(bench, dict) or not all(isinstance(v, dict) for v in bench.values()):
            raise ValueError("not {kernel: {configuration: figures}}")
        text = table(bench)
    except (OSError, ValueError, AttributeError, TypeError) as e:
        print(f"bench-table: {argv[1]}: {e}", file=sys.stderr)
        return 1
    if len(argv) == 2:
        sys.stdout.write(text)
        return 0
    doc = open(argv[3]).read()
    if doc.count(BEGIN) != 1 or doc.count(END) != 1 or doc.index(BEGIN) > doc.index(END):
        print(f"bench-table: {argv[3]}: no single pair of table markers", file=sys.stderr)
        return 1
    pre, rest = doc.split(BEGIN)
    _, post = rest.split(END)
    with open(argv[3] + ".tmp", "w") as out:
        out.write(pre + BEGIN + "\n" + text + END + post)
    os.replace(argv[3] + ".tmp", argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
