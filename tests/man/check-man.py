#!/usr/bin/env python3
"""The manual pages are clean roff and say what --help says.

usage: check-man.py LPSENTINEL MANDIR   (make man-test; MANDIR from make man)

Fails (exit 1, one line per breach) unless:

1. MANDIR holds lpsentinel.8 and one lpsentinel-VERB.8 per verb of
   `lpsentinel help --verbs`, and nothing else;
2. every page formats without a single warning: `man --warnings -l` and
   `groff -ww -z -man` print nothing on stderr, and no escape sequence is left
   in the text man renders;
3. no drift: each verb page's SYNOPSIS is the synopsis of `lpsentinel VERB
   --help`, its NAME the summary, and its OPTIONS the same options, labels
   and help lines, in the same order; lpsentinel.8 lists every verb's page
   under COMMANDS and every page's SEE ALSO names every other page.

The drift comparison is checked against itself first: a page with an option
dropped, one added, a help line changed or the synopsis changed must fail it,
so the check cannot pass by comparing nothing.
"""
import os
import re
import subprocess
import sys

ENV = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MANROFFSEQ="")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ENV, **kw)


def unescape(s):
    """roff text as it reads: fonts dropped, escaped characters as themselves."""
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\ ", " ").replace("\\&", "").replace("\\e", "\\")


def sections(page):
    """{title: [lines]} of a roff page's .SH sections."""
    out, cur = {}, None
    for line in page.splitlines():
        if line.startswith(".SH "):
            cur = line[4:].strip().strip('"')
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def man_options(lines):
    """[(label, help)] of an OPTIONS section: .TP, the label line, then help lines."""
    opts, i = [], 0
    while i < len(lines):
        if lines[i] == ".TP" and i + 1 < len(lines):
            j = i + 2
            body = []
            while j < len(lines) and not lines[j].startswith("."):
                body.append(lines[j])
                j += 1
            opts.append((unescape(lines[i + 1]), unescape(" ".join(body))))
            i = j
        else:
            i += 1
    return opts


def help_of(binary, verb):
    """(synopsis, summary, [(label, help)]) from `lpsentinel VERB --help`."""
    p = run([binary, verb, "--help"])
    if p.returncode != 0 or p.stderr:
        raise ValueError(f"`lpsentinel {verb} --help`: exit {p.returncode}, stderr {p.stderr!r}")
    lines = p.stdout.splitlines()
    if len(lines) < 5 or not lines[0].startswith("usage: ") or "options:" not in lines:
        raise ValueError(f"`lpsentinel {verb} --help` is not a usage, summary and options: "
                         f"{p.stdout[:200]!r}")
    synopsis = lines[0].removeprefix("usage: ")
    summary = lines[2]
    opts = []
    for line in lines[lines.index("options:") + 1:]:
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        opts.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return synopsis, summary, opts


def drift(verb, page, synopsis, summary, opts):
    """Every way the page differs from --help, as lines."""
    errors, secs = [], sections(page)
    got_syn = " ".join(unescape(l) for l in secs.get("SYNOPSIS", []) if not l.startswith("."))
    if got_syn != synopsis:
        errors.append(f"lpsentinel-{verb}.8: SYNOPSIS {got_syn!r}, --help {synopsis!r}")
    name = " ".join(unescape(l) for l in secs.get("NAME", []))
    want = f"lpsentinel-{verb} - {summary.rstrip('.')}"
    if name.lower() != want.lower():
        errors.append(f"lpsentinel-{verb}.8: NAME {name!r}, --help's summary {want!r}")
    got = man_options(secs.get("OPTIONS", []))
    for o in opts:
        if o not in got:
            errors.append(f"lpsentinel-{verb}.8: OPTIONS lacks {o[0]!r}: {o[1]!r}")
    for o in got:
        if o not in opts:
            errors.append(f"lpsentinel-{verb}.8: OPTIONS has {o[0]!r}: {o[1]!r}, --help does not")
    if not errors and got != opts:
        errors.append(f"lpsentinel-{verb}.8: OPTIONS not in --help's order")
    return errors


def self_test(verb, page, synopsis, summary, opts):
    """The drift check fails on pages that drifted, else the check itself is broken."""
    head, opts_sec = page.split(".SH OPTIONS\n", 1)
    lines = opts_sec.split("\n")
    # Where the second option starts (the end of the first, when it is the only one).
    second_tp = lines.index(".TP", 1) if ".TP" in lines[1:] else 3
    changed = lines[:2] + ["changed " + lines[2]] + lines[3:]
    mutants = {
        "an option dropped": head + ".SH OPTIONS\n" + "\n".join(lines[second_tp:]),
        "an option added": head + ".SH OPTIONS\n.TP\n\\fB\\-\\-bogus\\fR\nnot one\n" + opts_sec,
        "a help line changed": head + ".SH OPTIONS\n" + "\n".join(changed),
        "the synopsis changed": page.replace(".SH SYNOPSIS\n", ".SH SYNOPSIS\n[\\fB\\-\\-x\\fR]\n", 1),
    }
    errors = []
    for what, mutant in mutants.items():
        if mutant == page:
            errors.append(f"self-test: could not make a page with {what}")
        elif not drift(verb, mutant, synopsis, summary, opts):
            errors.append(f"self-test: a page with {what} passed the drift check")
    return errors


def lint(path):
    """Warnings of man and groff, and escapes left in the rendered text."""
    errors = []
    p = run(["man", "--warnings", "-E", "UTF-8", "-l", path])
    if p.returncode != 0 or p.stderr.strip():
        errors.append(f"{path}: man --warnings: exit {p.returncode}: {p.stderr.strip()!r}")
    if "\\" in p.stdout:
        line = next(l for l in p.stdout.splitlines() if "\\" in l)
        errors.append(f"{path}: a backslash in the rendered page: {line.strip()!r}")
    g = run(["groff", "-ww", "-z", "-man", "-Tutf8", path])
    if g.returncode != 0 or g.stderr.strip():
        errors.append(f"{path}: groff -ww: exit {g.returncode}: {g.stderr.strip()!r}")
    return errors


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    binary, mandir = sys.argv[1], sys.argv[2]
    errors = []
    p = run([binary, "help", "--verbs"])
    verbs = p.stdout.split()
    if p.returncode != 0 or not verbs:
        sys.exit(f"check-man: `{binary} help --verbs`: exit {p.returncode}, {p.stdout!r}")
    names = ["lpsentinel"] + [f"lpsentinel-{v}" for v in verbs]
    want = sorted(n + ".8" for n in names)
    have = sorted(os.listdir(mandir))
    if have != want:
        errors.append(f"{mandir}: pages {have}, want {want}")
    pages = {}
    for n in names:
        path = os.path.join(mandir, n + ".8")
        if os.path.exists(path):
            pages[n] = open(path, encoding="utf-8").read()
            errors += lint(path)
    for n, page in pages.items():
        see = "\n".join(sections(page).get("SEE ALSO", []))
        for other in names:
            if other != n and other.replace("-", "\\-") + " (8)" not in see:
                errors.append(f"{n}.8: SEE ALSO lacks {other}(8)")
    main_page = pages.get("lpsentinel", "")
    commands = "\n".join(sections(main_page).get("COMMANDS", []))
    for v in verbs:
        if f".BR lpsentinel\\-{v} (8)" not in commands:
            errors.append(f"lpsentinel.8: COMMANDS lacks lpsentinel-{v}(8)")
    checked = 0
    for v in verbs:
        page = pages.get(f"lpsentinel-{v}")
        if page is None:
            continue
        try:
            synopsis, summary, opts = help_of(binary, v)
        except ValueError as e:
            errors.append(str(e))
            continue
        errors += drift(v, page, synopsis, summary, opts)
        errors += self_test(v, page, synopsis, summary, opts)
        checked += len(opts)
    for e in errors:
        print("check-man: " + e)
    print(f"check-man: {len(pages)} pages through man --warnings and groff -ww; "
          f"{checked} options of {len(verbs)} verbs as in --help; {len(errors)} breaches")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
