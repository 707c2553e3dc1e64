# pyserve.py REQ RESP: one python for every `py` and `json` call of a VM case
# (tests/vm/cases/lib.sh). Starting python3 costs about 0.5 s in an idle
# guest and several seconds in one whose CPUs the workload keeps busy, and a
# case makes dozens of such calls; this process starts once and runs each call
# as `python3 -c CODE ARG...` would: fresh globals, sys.argv, stdout and
# stderr captured, the exit status from SystemExit or an uncaught exception.
#
# Protocol, one call at a time, over two FIFOs: the caller writes
# "CODE\0ARG0\0ARG1\0..." to REQ and closes it; this answers on RESP with
# "STATUS\0STDOUT\0STDERR\0". At start-up it writes "ready\0" to RESP, so that
# the caller can wait until python is done opening its own files.
import contextlib
import io
import json  # noqa: F401 (imported once here, for the calls)
import sys
import traceback


def run(code, argv):
    out, err = io.StringIO(), io.StringIO()
    status = 0
    saved = sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
            except SystemExit as e:
                if e.code is None:
                    status = 0
                elif isinstance(e.code, int):
                    status = e.code & 0xFF
                else:
                    print(e.code, file=sys.stderr)
                    status = 1
            except BaseException as e:  # as python3 -c: the traceback, status 1
                traceback.print_exception(type(e), e, e.__traceback__.tb_next)
                status = 1
    finally:
        sys.argv = saved
    return status, out.getvalue(), err.getvalue()


def main():
    req, resp = sys.argv[1], sys.argv[2]
    with open(resp, "wb") as f:
        f.write(b"ready\0")
    while True:
        with open(req, "rb") as f:
            data = f.read()
        if not data:
            continue
        parts = data.split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        code = parts[0].decode("utf-8", "surrogateescape")
        argv = [p.decode("utf-8", "surrogateescape") for p in parts[1:]]
        status, out, err = run(code, argv)
        with open(resp, "wb") as f:
            f.write(b"%d\0%s\0%s\0" % (status, out.encode("utf-8", "surrogateescape"),
                                        err.encode("utf-8", "surrogateescape")))


main()
