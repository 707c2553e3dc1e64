#!/usr/bin/env python3
"""Checks Grafana dashboards against what lpsentinel really exports.

usage: check_dashboards.py METRICS_FILE [--promtool] [--prometheus URL] DASHBOARD.json...

- Every dashboard is a Grafana dashboard (uid, title, panels with gridPos and
  targets), uids are unique.
- Every lpsentinel_* name in a query is a sample name in METRICS_FILE (the
  text a daemon served on /metrics).
- --promtool: every query parses as PromQL (as recording rules for
  `promtool check rules`, with Grafana's variables substituted).
- --prometheus URL: every query runs on that server without error, and the
  ones listed in the daemon's metrics come back with data.
Exit 0 when all holds; otherwise one line per problem and exit 1.
"""
import json
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

VARS = {"$__rate_interval": "1m", "$__range": "1h", "$instance": ".*", "$function": ".*"}


def exprs_of(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield v
            else:
                yield from exprs_of(v)
    elif isinstance(node, list):
        for v in node:
            yield from exprs_of(v)


def concrete(expr):
    for k, v in VARS.items():
        expr = expr.replace(k, v)
    return expr


def exported(metrics_file):
    names = set()
    for line in open(metrics_file):
        if line.startswith("#") or not line.strip():
            continue
        names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def main(argv):
    args, promtool, prom = [], False, None
    it = iter(argv[1:])
    for a in it:
        if a == "--promtool":
            promtool = True
        elif a == "--prometheus":
            prom = next(it)
        else:
            args.append(a)
    if len(args) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    names = exported(args[0])
    problems, uids, queries = [], set(), []
    for path in args[1:]:
        try:
            d = json.load(open(path))
        except (OSError, ValueError) as e:
            problems.append(f"{path}: not JSON: {e}")
            continue
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in d:
                problems.append(f"{path}: no {key}")
        if d.get("uid") in uids:
            problems.append(f"{path}: uid {d.get('uid')} used twice")
        uids.add(d.get("uid"))
        for p in d.get("panels", []):
            if not p.get("targets") or "gridPos" not in p:
                problems.append(f"{path}: panel '{p.get('title')}' has no targets or gridPos")
        es = list(exprs_of(d.get("panels", [])))
        if not es:
            problems.append(f"{path}: no queries")
        for e in es:
            queries.append((path, e))
            for m in set(re.findall(r"\blpsentinel_[a-z0-9_]+", e)):
                if m not in names:
                    problems.append(f"{path}: {m} is not exported by the daemon")
        for v in d.get("templating", {}).get("list", []):
            q = v.get("definition", "")
            for m in set(re.findall(r"\blpsentinel_[a-z0-9_]+", q)):
                if m not in names:
                    problems.append(f"{path}: variable {v.get('name')}: {m} is not exported")
    if promtool:
        rules = {"groups": [{"name": "dashboards", "rules": [
            {"record": f"lpsentinel_dashboard_query_{i}", "expr": concrete(e)}
            for i, (_, e) in enumerate(queries)]}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            json.dump(rules, f)   # JSON is YAML
            f.flush()
            r = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
            if r.returncode:
                problems.append("promtool check rules: " + (r.stdout + r.stderr).strip().replace("\n", "; "))
    if prom:
        for path, e in queries:
            url = prom.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": concrete(e)})
            try:
                res = json.load(urllib.request.urlopen(url, timeout=30))
            except Exception as ex:  # HTTP 400 for a bad query lands here too
                problems.append(f"{path}: query failed: {concrete(e)}: {ex}")
                continue
            if res.get("status") != "success":
                problems.append(f"{path}: query failed: {concrete(e)}: {res}")
            elif not res["data"]["result"] and "increase(" not in e and "rate(" not in e \
                    and "== 1" not in e and "count(" not in e:
                problems.append(f"{path}: no data: {concrete(e)}")
    for p in problems:
        print(p)
    print(f"dashboards: {len(args) - 1} files, {len(queries)} queries, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
