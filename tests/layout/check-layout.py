#!/usr/bin/env python3
"""The tree's architecture, checked: which folder of user/ may include which.

Each folder of user/ is one part of the product (docs/design.md has the map).
A folder may use the headers of the folders listed for it below and of
nothing else in the tree; the shared BPF header (bpf/lpsentinel.h) and the
generated skeletons are open to all. The graph must have no cycles, and no
source file may pass MAX_LINES. Prints every breach; exit 1 if any.
"""
import os
import re
import sys

MAX_LINES = 600

# Who may depend on whom (a folder on itself always may).
ALLOWED = {
    "judge": set(),                     # statistics and the engine: pure
    "util": set(),                      # log, clock, stop signals, kernel log reader
    "rules": {"judge", "util"},         # the rules file fills the judge's settings
    "klp": {"util"},                    # livepatch model, module analysis, lifecycle
    "probe": {"judge", "klp", "util"},  # BPF drivers and kernel-log faults
    "report": {"judge", "klp", "probe", "util"},
    "daemon": {"judge", "rules", "klp", "probe", "report", "util"},
    "cmd": {"judge", "rules", "klp", "probe", "report", "daemon", "util"},
}
OPEN = {"lpsentinel.h"}                 # bpf/: the header BPF and userspace share

def main():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    user = os.path.join(top, "user")
    owner, errors, edges = {}, [], {}
    folders = sorted(d for d in os.listdir(user) if os.path.isdir(os.path.join(user, d)))
    for d in folders:
        if d not in ALLOWED:
            errors.append(f"user/{d}: a folder the layout rule does not know (add it to {__file__})")
        for f in os.listdir(os.path.join(user, d)):
            if f.endswith(".h"):
                if f in owner:
                    errors.append(f"{f}: in user/{owner[f]} and user/{d}")
                owner[f] = d
    loose = [f for f in os.listdir(user) if os.path.isfile(os.path.join(user, f))]
    errors += [f"user/{f}: source outside a part folder" for f in loose]
    for d in folders:
        for f in sorted(os.listdir(os.path.join(user, d))):
            path = os.path.join(user, d, f)
            text = open(path, encoding="utf-8").read()
            n = text.count("\n")
            if n > MAX_LINES:
                errors.append(f"user/{d}/{f}: {n} lines (at most {MAX_LINES})")
            for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
                if inc in OPEN or inc.endswith(".skel.h"):
                    continue
                to = owner.get(inc)
                if to is None:
                    errors.append(f"user/{d}/{f}: includes \"{inc}\", which no part holds")
                    continue
                if to == d:
                    continue
                edges.setdefault(d, set()).add(to)
                if to not in ALLOWED.get(d, set()):
                    errors.append(f"user/{d}/{f}: includes {to}/{inc}; {d} may use only "
                                  f"{', '.join(sorted(ALLOWED.get(d, ()))) or 'itself'}")
    # Cycles in the graph as it really is (ALLOWED itself is acyclic).
    state = {}
    def visit(d, path):
        state[d] = 1
        for e in sorted(edges.get(d, ())):
            if state.get(e) == 1:
                errors.append("cycle: " + " -> ".join(path + [d, e]))
            elif not state.get(e):
                visit(e, path + [d])
        state[d] = 2
    for d in folders:
        if not state.get(d):
            visit(d, [])
    for e in errors:
        print("layout: " + e)
    print(f"layout: {len(folders)} parts, {sum(len(v) for v in edges.values())} dependencies, "
          f"{len(errors)} breach{'es' if len(errors) != 1 else ''}")
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
