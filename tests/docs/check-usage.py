#!/usr/bin/env python3
"""The synopses in the docs are the binary's own: one source, the option tables.

usage: check-usage.py [LPSENTINEL]   (default ./lpsentinel; run from the top of the tree)

Every verb's options are one table in user/cmd/<verb>.c (user/cmd/opts.h), from
which the binary prints its synopses. This checks, and fails (exit 1, one line
per breach) where they disagree:

1. docs/usage.md is exactly what `lpsentinel help --markdown` prints now
   (`make docs` regenerates it);
2. every verb's `--help` starts with `usage: SYNOPSIS`, exits 0 with nothing on
   stderr, and SYNOPSIS is one of the lines of `lpsentinel --help`;
3. synopses in README.md and docs/*.md equal the verb's SYNOPSIS.

Convention for 3: a synopsis in the docs goes in a fenced code block tagged
`synopsis`, one verb per line:

    ```synopsis
    lpsentinel gate PATCH.ko [--baseline SECONDS] ...
    ```

Every non-empty line of such a block must be `lpsentinel VERB ...` for a known
VERB and equal that verb's synopsis to the character. Examples (commands with
real arguments) go in any other code block and are not compared; but a line in
another code block (fenced, or indented by four spaces) that starts with
`lpsentinel VERB ` and holds a `[` looks like a synopsis left untagged, and
fails too, so a synopsis cannot dodge the check by losing its tag.
"""
import glob
import os
import re
import subprocess
import sys

FENCE = re.compile(r"^\s*(```|~~~)\s*([\w-]*)")


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def code_lines(path):
    """(line number, text, tag) of every line inside a code block; tag None when indented."""
    out, tag, fence = [], None, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = FENCE.match(line)
            if fence is None and m:
                fence, tag = m.group(1), m.group(2)
            elif fence is not None and line.strip().startswith(fence):
                fence, tag = None, None
            elif fence is not None:
                out.append((n, line, tag))
            elif line.startswith("    "):
                out.append((n, line.strip(), None))
    return out


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "./lpsentinel"
    errors = []

    # 1. docs/usage.md is generated.
    rc, md, err = run(binary, "help", "--markdown")
    if rc != 0 or err:
        errors.append(f"`{binary} help --markdown`: exit {rc}, stderr {err!r}")
    try:
        committed = open("docs/usage.md", encoding="utf-8").read()
    except OSError as e:
        committed = None
        errors.append(f"docs/usage.md: {e.strerror} (make docs writes it)")
    if committed is not None and committed != md:
        errors.append("docs/usage.md differs from `lpsentinel help --markdown` (run make docs)")

    # 2. Each verb's --help synopsis is a line of the top-level --help.
    rc, top, err = run(binary, "--help")
    if rc != 0 or err:
        errors.append(f"`{binary} --help`: exit {rc}, stderr {err!r}")
    top_lines = {l.strip() for l in top.splitlines()}
    verbs = [l.split()[1] for l in top.splitlines()
             if l.startswith("  lpsentinel ") and len(l.split()) > 1]
    if not verbs:
        errors.append(f"`{binary} --help` lists no verbs")
    synopsis = {}
    for v in verbs:
        rc, out, err = run(binary, v, "--help")
        first = out.splitlines()[0] if out else ""
        if rc != 0 or err or not first.startswith("usage: lpsentinel "):
            errors.append(f"`lpsentinel {v} --help`: exit {rc}, first line {first!r}, "
                          f"stderr {err!r}")
            continue
        synopsis[v] = first[len("usage: "):]
        if synopsis[v] not in top_lines:
            errors.append(f"`lpsentinel {v} --help` says `{synopsis[v]}`, "
                          "which is not a line of `lpsentinel --help`")

    # 3. Synopses in the docs.
    docs = ["README.md"] + sorted(glob.glob("docs/*.md"))
    for path in docs:
        if not os.path.exists(path):
            continue
        for n, line, tag in code_lines(path):
            text = line.strip()
            words = text.split()
            where = f"{path}:{n}"
            if tag == "synopsis":
                if not text:
                    continue
                if len(words) < 2 or words[0] != "lpsentinel" or words[1] not in synopsis:
                    errors.append(f"{where}: a synopsis block line that names no verb: {text}")
                elif text != synopsis[words[1]]:
                    errors.append(f"{where}: `{text}` is not the synopsis of {words[1]}: "
                                  f"`{synopsis[words[1]]}`")
            elif (len(words) > 1 and words[0] == "lpsentinel" and words[1] in synopsis
                  and "[" in text):
                errors.append(f"{where}: looks like a synopsis outside a ```synopsis block "
                              f"(tag the block so it is checked): {text}")

    for e in errors:
        print(f"check-usage: {e}")
    if errors:
        return 1
    print(f"check-usage: {len(synopsis)} verbs; docs/usage.md, --help and the synopses "
          f"in {', '.join(p for p in docs if os.path.exists(p))} agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
