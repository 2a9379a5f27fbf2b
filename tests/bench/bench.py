#!/usr/bin/env python3
"""The benchmark of issue 6: runs every measurement and prints ONE Markdown table.

    python3 tests/bench/bench.py --driver build/release/bench_driver --bootstrap BIN [options]

The timing-critical parts are C (tests/bench/bench_driver.c: the fake Runtime API and DynamoDB,
the exec timestamps, the child's CPU and RSS read from /proc); this script only runs them,
collects min / median / max, and formats the table. scripts/bench.sh builds what is needed and
calls it. --quick uses tiny counts (the CTest bench_smoke); --check exits non-zero when a
figure is missing (never because of a figure's value). A figure is missing, among other
reasons, when an invocation it measures did not get its operation's status (the driver checks
every answer: 201 for creates, 200 for the rest), so a benchmark of error paths cannot pass.
"""

import argparse
import json
import math
import os
import platform
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EVENTS = os.path.join(HERE, "events")
# The operations measured one by one: (event in events/, label, DynamoDB requests by design,
# the original design's). The requests are measured at the fake and only compared with the
# design's count in the table; the status each must answer is the driver's (OP_STATUS).
# Design: docs/decisions.md, "Phase 2"; the original design (Python, read-then-write) as the
# issue states it, which had no uniqueness, lookup or idempotency.
OPS = [
    ("create", "create with uniqueness", 1, "1"),
    ("create_idempotent", "create with Idempotency-Key", 1, "—"),
    ("get", "get", 1, "1"),
    ("lookup", "lookup by email", 1, "— (no lookup)"),
    ("list", "list (a page)", 1, "1"),
    ("update", "update, address unchanged", 1, "2"),
    ("update_email", "address change", 2, "2 (no uniqueness)"),
    ("delete", "delete", 2, "2"),
]

# Prices (US East, N. Virginia) as published on 2026-11-26; BENCHMARKS.md cites the pages.
LAMBDA_PER_MILLION = 0.20
LAMBDA_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
APIGW_REST_PER_MILLION = 3.50
ORIGINAL_ESTIMATE = 5.45  # the original design's own estimate, per million requests
FULL_VCPU_MB = 1769       # Lambda gives one vCPU at 1,769 MB, a proportional share below

COUNTS = {  # full run, quick run (bench_smoke)
    "cold_c": (200, 5), "cold_ref": (200, 5), "cold_py": (20, 2),
    "warm_c": (100000, 2000), "warm_every": (10000, 1000), "warm_procs": (3, 1),
    "warm_py": (10000, 200), "warm_py_every": (1000, 100), "warm_free": (20000, 1000),
    "ops_rounds": (20, 1), "wrk_seconds": (10, 1), "wrk_repeats": (3, 1),
    "warm_trace": (50000, 2000), "trace_rounds": (3, 1),
    "op_warm": (20000, 600), "op_warm_every": (5000, 200), "op_warm_procs": (2, 1),
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return (min(values), statistics.median(values), max(values))


def records(text, kind):
    """Lines "kind key=value ..." of the driver's output as dicts."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] != kind:
            continue
        rec = {}
        for p in parts[1:]:
            k, _, v = p.partition("=")
            try:
                rec[k] = float(v) if "." in v or v.lstrip("-").isdigit() else v
            except ValueError:
                rec[k] = v
        out.append(rec)
    return out


class Bench:
    def __init__(self, args):
        self.a = args
        self.q = 1 if args.quick else 0
        self.rows = []      # (figure, subject, unit, (min, med, max) or None, target, note)
        self.commands = []
        self.missing = []
        self.extra = {}
        self.op_ddb = {}  # event → DynamoDB requests per invocation, as measured by ops()

    def n(self, key):
        return COUNTS[key][self.q]

    def run(self, argv, env=None, timeout=1800, keep_output=False):
        """The command's stdout; None when it failed, unless keep_output (its records are then
        judged one by one)."""
        self.commands.append(" ".join(shlex.quote(os.path.relpath(a, REPO)
                                                  if a.startswith(REPO) else a) for a in argv))
        e = dict(os.environ)
        if env:
            e.update(env)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=e, timeout=timeout, cwd=REPO)
        if p.returncode != 0:
            log("failed (%d): %s\n%s" % (p.returncode, " ".join(argv), p.stderr[-2000:]))
            return p.stdout if keep_output else None
        return p.stdout

    def add(self, figure, subject, unit, values, target="", note=""):
        s = values if isinstance(values, tuple) or values is None else stats(values)
        if s is None:
            self.missing.append("%s / %s" % (figure, subject))
        self.rows.append((figure, subject, unit, s, target, note))
        return s

    # ---- cold start ----
    def cold(self, label, cmd, runs, next_only=False):
        argv = [self.a.driver, "cold", "--events", EVENTS, "--runs", str(runs)] + self.pin()
        if next_only:
            argv.append("--next-only")
        out = self.run(argv + ["--"] + cmd)
        recs = records(out or "", "cold")
        nxt = [r["next_us"] / 1000 for r in recs]
        first = [r["first_us"] / 1000 for r in recs if r.get("first_us", -1) > 0 and
                 r.get("status") == 200 and r.get("ddb") == 1]
        if recs and not next_only and len(first) != len(recs):
            log("%s: %d of %d cold runs did not answer 200 with one GetItem"
                % (label, len(recs) - len(first), len(recs)))
            first = []
        return nxt, first

    def cold_all(self):
        log("cold start")
        results = {}
        subjects = [("C bootstrap (%s)" % self.a.bootstrap_label, [self.a.bootstrap],
                     self.n("cold_c"), False)]
        if self.a.dynamic:
            subjects.append(("C bootstrap, dynamic (build/release)", [self.a.dynamic],
                             self.n("cold_ref"), False))
        if self.a.connect:
            subjects.append(("ref: static C, connect + GET /next only", [self.a.connect],
                             self.n("cold_ref"), True))
        subjects.append(("Python 3 + boto3 (original design)",
                         [self.a.python, os.path.join(HERE, "python", "runtime.py")],
                         self.n("cold_py"), False))
        for label, cmd, runs, next_only in subjects:
            results[label] = self.cold(label, cmd, runs, next_only)
        for label, (nxt, _) in results.items():
            self.add("cold start: exec → first GET /next", label, "ms", nxt,
                     "≤ 3 ms" if label.startswith("C bootstrap (") else "")
        for label, (_, first) in results.items():
            if "connect" in label:
                continue
            self.add("first invocation: exec → first /response (GET, 1 GetItem)", label, "ms",
                     first)
        c, py = results[subjects[0][0]][0], results[subjects[-1][0]][0]
        if c and py:
            self.extra["cold_ratio"] = statistics.median(py) / statistics.median(c)

    # ---- warm CPU and memory ----
    def pin(self, pinned=True):
        return ["--cpu", str(self.a.cpu)] if pinned and self.a.cpu >= 0 else []

    def warm(self, cmd, total, every, procs, pinned=True, op="get", ddb_per_inv=1,
             trace="unsampled"):
        """Every invocation must get its operation's status (the driver counts the others as
        bad) and make ddb_per_inv DynamoDB requests; a sampled one must send one X-Ray
        subsegment per request."""
        per_inv, rss_at, hwm_end, growth, user_share = [], [], [], [], []
        for _ in range(procs):
            out = self.run([self.a.driver, "warm", "--events", EVENTS, "--op", op,
                            "--invocations", str(total), "--every", str(every),
                            "--trace", trace] + self.pin(pinned) + ["--"] + cmd)
            recs = records(out or "", "warm")
            recs = [r for r in recs if "invocations" in r]
            if not recs or recs[-1]["invocations"] != total or recs[-1]["bad"] or \
                    recs[-1]["errors"] or recs[-1]["ddb"] != total * ddb_per_inv:
                log("warm %s: run incomplete, a wrong status, or not %s DynamoDB request(s) "
                    "each: %s" % (op, ddb_per_inv, recs[-1] if recs else out))
                return None
            # Datagrams still in flight at the last record are not counted: at most a few.
            sent = recs[-1].get("datagrams", 0)
            if trace == "sampled" and not total * ddb_per_inv - 4 <= sent <= total * ddb_per_inv:
                log("warm %s, sampled: %s subsegments for %s requests" % (op, sent, total * ddb_per_inv))
                return None
            if trace != "sampled" and sent:
                log("warm %s, %s: %s subsegments sent" % (op, trace, sent))
                return None
            # CPU per invocation in each window after the first (the first holds first-use costs).
            for a, b in zip(recs[1:], recs[2:]) if len(recs) > 2 else zip(recs, recs[1:]):
                per_inv.append((b["cpu_ns"] - a["cpu_ns"]) / (b["invocations"] - a["invocations"])
                               / 1000)
            first, last = recs[1], recs[-1]
            rss_at.append(first["rss_kb"] / 1024)
            hwm_end.append(last["hwm_kb"] / 1024)
            growth.append((last["rss_kb"] - first["rss_kb"]) / 1024)
            ticks = last["utime"] + last["stime"]
            if ticks:
                user_share.append(100 * last["utime"] / ticks)
        return {"cpu": per_inv, "rss_first": rss_at, "hwm_end": hwm_end, "growth": growth,
                "first_at": every, "user_share": user_share}

    def warm_all(self):
        log("warm CPU and memory (C)")
        total, every = self.n("warm_c"), self.n("warm_every")
        c = self.warm([self.a.bootstrap], total, every, self.n("warm_procs"))
        log("warm CPU and memory (Python)")
        pt, pe = self.n("warm_py"), self.n("warm_py_every")
        py = self.warm([self.a.python, os.path.join(HERE, "python", "runtime.py")], pt, pe, 1)
        c_label = "C bootstrap (%s)" % self.a.bootstrap_label
        py_label = "Python 3 + boto3 (original design)"
        note_c = "%d process(es) × %s GET invocations; samples: CPU per %s-invocation window" % (
            self.n("warm_procs"), format(total, ","), format(every, ","))
        note_py = "1 process × %s invocations; windows of %s" % (format(pt, ","), format(pe, ","))
        cs = self.add("warm CPU (user+sys) per GET /users/{id}", c_label, "µs",
                      c and c["cpu"], "≤ 100 µs", note_c)
        ps = self.add("warm CPU (user+sys) per GET /users/{id}", py_label, "µs",
                      py and py["cpu"], "", note_py)
        if c and c["user_share"]:
            self.extra["c_user_share"] = statistics.median(c["user_share"])
        if self.a.cpu >= 0:
            log("warm CPU, unpinned (C)")
            free = self.warm([self.a.bootstrap], self.n("warm_free"), self.n("warm_free") // 4, 1,
                             pinned=False)
            self.add("warm CPU (user+sys) per GET /users/{id}, driver and bootstrap NOT pinned",
                     c_label, "µs", free and free["cpu"], "",
                     "1 process × %s; includes waking the driver on the other vCPU (a "
                     "hypervisor exit here)" % format(self.n("warm_free"), ","))
        self.add("peak RSS (VmHWM) after %s invocations" % format(total, ","), c_label, "MB",
                 c and c["hwm_end"], "≤ 8 MB")
        self.add("RSS growth from %s to %s invocations" % (format(every, ","), format(total, ",")),
                 c_label, "MB", c and c["growth"], "0 (no growth)")
        self.add("peak RSS (VmHWM) after %s invocations" % format(pt, ","), py_label, "MB",
                 py and py["hwm_end"])
        if cs:
            self.extra.setdefault("cpu_us", {})["c"] = cs[1]
        if ps:
            self.extra.setdefault("cpu_us", {})["py"] = ps[1]
        if cs and ps:
            self.extra["cpu_ratio"] = ps[1] / cs[1]
        if c and py:
            self.extra["rss_ratio"] = statistics.median(py["hwm_end"]) / statistics.median(
                c["hwm_end"])

    # ---- the cost of observability (issue 14) ----
    def tracing(self):
        """Warm CPU per GET with the invocation's trace unsampled (EMF metrics and the log
        line's fields only) and sampled (plus one X-Ray subsegment per DynamoDB call, sent to
        a stand-in daemon), interleaved so that both see the same machine; and --baseline, a
        bootstrap from before observability, when given."""
        total, every = self.n("warm_trace"), self.n("warm_trace") // 5
        subjects = [("unsampled", [self.a.bootstrap], "unsampled"),
                    ("sampled", [self.a.bootstrap], "sampled")]
        if self.a.baseline:
            subjects.insert(0, ("baseline", [self.a.baseline], "unsampled"))
        got = {name: [] for name, _, _ in subjects}
        for rnd in range(self.n("trace_rounds")):
            for name, cmd, trace in subjects:
                log("warm CPU per GET, trace %s (round %d)" % (name, rnd + 1))
                w = self.warm(cmd, total, every, 1, trace=trace)
                if w is None:
                    got[name] = None
                elif got[name] is not None:
                    got[name] += w["cpu"]
        note = "%d rounds × %s GETs each, interleaved; samples: CPU per %s-invocation window" % (
            self.n("trace_rounds"), format(total, ","), format(every, ","))
        figure = "warm CPU (user+sys) per GET /users/{id}, by trace"
        med = {}
        if self.a.baseline:
            s = self.add(figure, "before observability (%s)" % self.a.baseline_label, "µs",
                         got["baseline"], "", note)
            med["baseline"] = s and s[1]
        s = self.add(figure, "unsampled: EMF metrics, Lambda fields", "µs", got["unsampled"],
                     "≤ 10 % over the baseline", note)
        med["unsampled"] = s and s[1]
        s = self.add(figure, "sampled: also one X-Ray subsegment per DynamoDB call", "µs",
                     got["sampled"], "", note)
        med["sampled"] = s and s[1]
        if med.get("baseline") and med.get("unsampled") and med.get("sampled"):
            self.extra["trace_cost"] = {k: 100 * (med[k] / med["baseline"] - 1)
                                        for k in ("unsampled", "sampled")}

    # ---- DynamoDB requests per operation, and warm CPU per operation ----
    def ops(self):
        log("DynamoDB requests per operation")
        out = self.run([self.a.driver, "ops", "--events", EVENTS, "--rounds",
                        str(self.n("ops_rounds"))] + self.pin() + ["--", self.a.bootstrap],
                       keep_output=True)
        recs = records(out or "", "op")
        for op, label, design, original in OPS:
            mine = [r for r in recs if r.get("name") == op]
            ok = [r for r in mine if r["status"] == r["want"]]
            # One sequence of targets for every round: the count is the operation's, not luck's.
            shapes = {str(r["targets"]) for r in ok}
            vals = [r["ddb"] for r in ok] if mine and len(ok) == len(mine) and \
                len(shapes) == 1 else []
            if mine and len(ok) != len(mine):
                log("%s: answered %s, not %d" % (op, sorted({int(r["status"]) for r in mine}),
                                                 int(mine[0]["want"])))
            elif len(shapes) > 1:
                log("%s: the requests differ between rounds: %s" % (op, sorted(shapes)))
            elif not mine:
                log("%s: no invocation measured" % op)
            if vals:
                self.op_ddb[op] = int(vals[0])
            targets = " + ".join(
                t.split(":")[0] + ("" if t.endswith(":1") else " × " + t.split(":")[1])
                for t in next(iter(shapes)).split(",")) if vals else "?"
            self.add("DynamoDB requests per operation (at the fake)",
                     "%s: %s" % (label, targets), "requests", vals, "exactly %d" % design,
                     "original design: %s" % original)

    def op_cpu(self):
        """Warm CPU per invocation of each operation, one event repeated (ops() must have run:
        each invocation must make the requests it measured)."""
        total, every, procs = self.n("op_warm"), self.n("op_warm_every"), self.n("op_warm_procs")
        c_label = "C bootstrap (%s)" % self.a.bootstrap_label
        for op, label, _, _ in OPS:
            log("warm CPU per invocation: %s" % label)
            ddb = self.op_ddb.get(op)
            r = self.warm([self.a.bootstrap], total, every, procs, op=op,
                          ddb_per_inv=ddb) if ddb else None
            s = self.add("warm CPU (user+sys) per invocation, by operation: %s" % c_label,
                         label, "µs", r and r["cpu"], "",
                         "%d process(es) × %s invocations of events/%s.json, %s DynamoDB "
                         "request(s) each; windows of %s" % (
                             procs, format(total, ","), op, ddb if ddb else "?",
                             format(every, ",")))
            if s:
                self.extra.setdefault("op_cpu", {})[op] = s[1]

    # ---- package ----
    def package(self):
        z = self.a.zip
        if z and os.path.exists(z):
            size = os.path.getsize(z) / 1e6
            self.add("package: %s" % os.path.relpath(z, REPO), "zip", "MB", (size, size, size),
                     "≤ 5 MB", self.a.zip_note or "")
        else:
            self.add("package: build/lambda.zip", "zip", "MB", None, "≤ 5 MB",
                     "scripts/package.sh did not produce it")
        size = os.path.getsize(self.a.bootstrap) / 1e6
        self.add("bootstrap as run here (unstripped)", self.a.bootstrap_label, "MB",
                 (size, size, size))

    # ---- end to end with wrk ----
    def e2e(self):
        if not self.a.gateway:
            return
        log("end to end: users-gateway + bootstrap + DynamoDB Local / fake DynamoDB, wrk")
        lua = os.path.join(HERE, "wrk_post.lua")
        for backend in ("DynamoDB Local", "fake DynamoDB"):
            try:
                with Stack(self, backend) as st:
                    uid = st.create_user()
                    for method in ("GET", "POST"):
                        url = st.url + ("/users/" + uid if method == "GET" else "/users")
                        script = ["-s", lua] if method == "POST" else []
                        if not self.a.quick:  # JIT and caches warm first (DynamoDB Local is Java)
                            self.wrk(url, script, seconds=5)
                        runs, non2xx = [], 0
                        for _ in range(self.n("wrk_repeats")):
                            before = st.cpu()
                            r = self.wrk(url, script)
                            after = st.cpu()
                            if r:
                                r["cpu"] = {k: (after[k] - before.get(k, 0)) / r["requests"]
                                            for k in after}
                                r["cpu"]["wrk"] = r["wrk_cpu_us"] / r["requests"]
                                runs.append(r)
                                non2xx += r["non2xx"]
                        if non2xx:
                            log("%s %s: %d answers were not 2xx" % (backend, method, non2xx))
                            runs = []
                        subj = "%s /users%s via gateway → %s" % (
                            method, "/{id}" if method == "GET" else "", backend)
                        self.add("end to end: requests/s", subj, "req/s", [r["rps"] for r in runs])
                        p50s = self.add("end to end: p50 latency", subj, "ms",
                                        [r["p50"] for r in runs])
                        self.add("end to end: p99 latency", subj, "ms", [r["p99"] for r in runs])
                        if p50s:
                            self.extra.setdefault("p50", {})[(method, backend)] = p50s[1]
                        for part in Stack.PARTS[backend]:
                            self.add("end to end: CPU per request, by process", "%s: %s" % (
                                subj, part), "µs", [r["cpu"].get(part) for r in runs])
            except Exception as exc:  # a missing figure, so that --check fails
                log("%s stack failed: %s" % (backend, exc))
                self.add("end to end", "via gateway → %s" % backend, "", None, "",
                         "the stack failed: %s" % exc)

    def wrk(self, url, script, seconds=None):
        conns = str(self.a.wrk_connections)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = self.run(["wrk", "-t", "2", "-c", conns, "-d",
                        "%ds" % (seconds or self.n("wrk_seconds")), "--latency"] + script + [url],
                       timeout=300)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if not out:
            return None

        def ms(text):
            m = re.match(r"([\d.]+)(us|ms|s)$", text)
            v = float(m.group(1))
            return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

        lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)$", out, re.M))
        rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
        total = re.search(r"^\s+(\d+) requests in", out, re.M)
        non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        if not (lat.get("50") and lat.get("99") and rps and total and int(total.group(1))):
            log("could not read wrk's output:\n" + out)
            return None
        wrk_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1e6
        return {"rps": float(rps.group(1)), "p50": ms(lat["50"]), "p99": ms(lat["99"]),
                "requests": int(total.group(1)), "non2xx": int(non.group(1)) if non else 0,
                "wrk_cpu_us": wrk_cpu}

    # ---- cost ----
    def cost_table(self):
        cpu = self.extra.get("cpu_us")
        if not cpu:
            return []
        out = ["", "Lambda cost per million GET /users/{id} at the measured CPU (DynamoDB's wait "
               "excluded; it bills the same for both designs). API Gateway REST adds $%.2f per "
               "million to every row; the original design's own estimate was $%.2f per million "
               "all told." % (APIGW_REST_PER_MILLION, ORIGINAL_ESTIMATE), "",
               "| design | CPU/inv | memory | billed ms (full speed / CPU share) | x86_64 $/M | "
               "arm64 $/M | + API Gateway REST |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, key in (("C bootstrap", "c"), ("Python 3 + boto3", "py")):
            if key not in cpu:
                continue
            for mem in (128, 256):
                fast, slow = billed_ms(cpu[key], mem, False), billed_ms(cpu[key], mem, True)
                x86 = [cost_per_million(b, mem, "x86_64") for b in (fast, slow)]
                arm = [cost_per_million(b, mem, "arm64") for b in (fast, slow)]
                out.append("| %s | %.0f µs | %d MB | %d / %d | %.4f–%.4f | %.4f–%.4f | %.2f–%.2f |"
                           % (label, cpu[key], mem, fast, slow, x86[0], x86[1], arm[0], arm[1],
                              x86[0] + APIGW_REST_PER_MILLION, x86[1] + APIGW_REST_PER_MILLION))
        return out

    # ---- the table ----
    def machine(self):
        model = "unknown"
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        model = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        load = os.getloadavg()
        pin = ("cold start, warm CPU and memory, and DynamoDB counts with driver and subject "
               "pinned to CPU %d" % self.a.cpu) if self.a.cpu >= 0 else "nothing pinned"
        return "%d × %s, Linux %s, %s; load average at start %.2f; %s" % (
            os.cpu_count(), model, platform.release(), platform.libc_ver()[0] + " " +
            platform.libc_ver()[1], load[0], pin)

    def table(self, machine):
        def fmt(v):
            if v is None:
                return "—"
            if abs(v) >= 1000:
                return format(round(v), ",")
            if abs(v) >= 100:
                return "%.0f" % v
            if abs(v) >= 10:
                return "%.1f" % v
            return "%.2f" % v

        lines = ["| figure | subject | unit | min | median | max | target | note |",
                 "| --- | --- | --- | ---: | ---: | ---: | --- | --- |"]
        for fig, subj, unit, s, target, note in self.rows:
            vals = [fmt(x) for x in s] if s else ["MISSING"] * 3
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                fig, subj, unit, vals[0], vals[1], vals[2], target, note))
        ratios = []
        if "cold_ratio" in self.extra:
            ratios.append("cold start Python/C **%.0f×** (goal ≥ 50×)" % self.extra["cold_ratio"])
        if "cpu_ratio" in self.extra:
            ratios.append("CPU per invocation Python/C **%.1f×** (goal ≥ 20×)"
                          % self.extra["cpu_ratio"])
        if "rss_ratio" in self.extra:
            ratios.append("peak RSS Python/C **%.1f×**" % self.extra["rss_ratio"])
        if "trace_cost" in self.extra:
            ratios.append("observability over the baseline: unsampled **%+.1f %%** (goal ≤ 10 %%), "
                          "sampled **%+.1f %%**" % (self.extra["trace_cost"]["unsampled"],
                                                     self.extra["trace_cost"]["sampled"]))
        out = ["", "### Users API benchmark (scripts/bench.sh%s)" %
               (" --quick: tiny counts, figures not meaningful" if self.a.quick else ""), "",
               "Machine: " + machine + ".", ""]
        out += lines
        out += ["", "Ratios (medians): " + "; ".join(ratios) + "." if ratios else ""]
        for method in ("GET", "POST"):
            p = self.extra.get("p50", {})
            local, fake = p.get((method, "DynamoDB Local")), p.get((method, "fake DynamoDB"))
            if local and fake:
                out.append("End to end, %s p50: %.1f ms against DynamoDB Local, %.2f ms against "
                           "the fake: DynamoDB Local takes %.0f%% of the time." % (
                               method, local, fake, 100 * (local - fake) / local))
        out += self.cost_table()
        if "c_user_share" in self.extra:
            out.append("C bootstrap CPU split: %.0f%% user, %.0f%% system." % (
                self.extra["c_user_share"], 100 - self.extra["c_user_share"]))
        out += ["", "Commands (run from the repository root; the driver forks and execs the "
                "subject itself):", ""]
        seen = []
        for c in self.commands:
            key = re.sub(r"\d+$", "", c)
            if key not in seen:
                seen.append(key)
                out.append("    " + c)
        if self.missing:
            out += ["", "MISSING figures: " + "; ".join(self.missing)]
        return "\n".join(out) + "\n"


def proc_cpu_us(pid):
    """utime+stime of a live process (all its threads), in µs; 0 when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1e6 / os.sysconf("SC_CLK_TCK")


def child_pids(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    return out


def billed_ms(cpu_us, memory_mb, throttled):
    """Lambda's billed duration (1 ms steps) for a handler that needs cpu_us of CPU and waits
    for nothing else: at full speed, or stretched by the CPU share of memory_mb."""
    ms = cpu_us / 1000.0
    if throttled:
        ms /= min(1.0, memory_mb / FULL_VCPU_MB)
    return max(1, math.ceil(ms - 1e-9))


def cost_per_million(billed, memory_mb, arch):
    return LAMBDA_PER_MILLION + 1e6 * billed / 1000.0 * memory_mb / 1024.0 * LAMBDA_GB_SECOND[arch]


class Stack:
    """users-gateway with the bootstrap in front of DynamoDB Local (scripts/run.sh) or of the
    fake DynamoDB (bench_driver ddb); stopped by process group on exit."""

    PARTS = {"DynamoDB Local": ["users-gateway", "bootstrap (all)", "DynamoDB Local (java)",
                                "wrk"],
             "fake DynamoDB": ["users-gateway", "bootstrap (all)", "fake DynamoDB", "wrk"]}

    def __init__(self, bench, backend):
        self.b, self.backend, self.procs = bench, backend, []
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        a = self.b.a
        env = dict(os.environ, USERS_SKIP_DEPS="1", USERS_SKIP_BUILD="1",
                   USERS_BOOTSTRAP=a.bootstrap, USERS_GATEWAY=a.gateway, LOG_LEVEL="WARN")
        if self.backend == "DynamoDB Local":
            cmd = [os.path.join(REPO, "scripts", "run.sh"), "--in-memory", "--port",
                   str(self.port), "--instances", str(a.instances)]
            self.start(cmd, env)
        else:
            ddb = subprocess.Popen([a.driver, "ddb", "--port", "0"], stdout=subprocess.PIPE,
                                   text=True, start_new_session=True)
            self.b.commands.append("%s ddb --port 0" % os.path.relpath(a.driver, REPO))
            self.procs.append(ddb)
            port = records(ddb.stdout.readline(), "ddb")[0]["port"]
            env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",
                       AWS_SESSION_TOKEN="")
            cmd = [a.gateway, "--port", str(self.port), "--bootstrap", a.bootstrap,
                   "--instances", str(a.instances), "--endpoint", "http://127.0.0.1:%d" % port]
            self.start(cmd, env)
        self.b.commands.append(" ".join(cmd).replace(REPO + "/", ""))
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                req = urllib.request.Request(self.url + "/users", method="OPTIONS")
                urllib.request.urlopen(req, timeout=1).read()
                return self
            except Exception:
                if any(p.poll() is not None for p in self.procs):
                    raise RuntimeError("the stack exited at start")
                time.sleep(0.2)
        raise RuntimeError("the stack did not answer within 120 s")

    def cpu(self):
        """CPU µs so far of the gateway, its bootstraps and the DynamoDB behind them."""
        gateway, ddb = None, None
        if self.backend == "DynamoDB Local":
            for pid in child_pids(self.procs[0].pid):  # run.sh's: java and users-gateway
                with open("/proc/%d/comm" % pid) as f:
                    comm = f.read().strip()
                if comm == "java":
                    ddb = pid
                elif comm.startswith("users-gateway"):
                    gateway = pid
        else:
            ddb, gateway = self.procs[0].pid, self.procs[1].pid
        out = {}
        if gateway:
            out["users-gateway"] = proc_cpu_us(gateway)
            out["bootstrap (all)"] = sum(proc_cpu_us(p) for p in child_pids(gateway))
        if ddb:
            out[self.PARTS[self.backend][2]] = proc_cpu_us(ddb)
        return out

    def start(self, cmd, env):
        self.procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                           start_new_session=True, cwd=REPO))

    def create_user(self):
        body = json.dumps({"name": "Bench Reader", "email": "reader@example.com", "age": 30})
        req = urllib.request.Request(self.url + "/users", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["userId"]

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", required=True)
    ap.add_argument("--bootstrap", required=True, help="the bootstrap measured (the shipped one)")
    ap.add_argument("--bootstrap-label", default="static, build/static")
    ap.add_argument("--dynamic", help="the dynamically linked bootstrap, as a reference")
    ap.add_argument("--baseline", help="a bootstrap from before observability, for the trace part")
    ap.add_argument("--baseline-label", default="given with --baseline")
    ap.add_argument("--connect", help="bench_connect, the static connect-only reference")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--gateway", help="users-gateway; omit to skip the end-to-end figures")
    ap.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1,
                    help="pin driver and subject to this CPU for cold/warm/ops (-1: do not)")
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--wrk-connections", type=int, default=2,
                    help="wrk connections (default 2: one per bootstrap, no queueing)")
    ap.add_argument("--zip", default=os.path.join(REPO, "build", "lambda.zip"))
    ap.add_argument("--zip-note", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 when a figure is missing")
    ap.add_argument("--output", help="also write the table to this file")
    ap.add_argument("--only", help="comma-separated: cold,warm,trace,ops,opcpu,package,e2e (opcpu "
                    "needs ops, which runs first)")
    a = ap.parse_args()
    for name in ("driver", "bootstrap", "dynamic", "connect", "gateway", "baseline"):
        v = getattr(a, name)
        if v:
            setattr(a, name, os.path.abspath(v))
    b = Bench(a)
    machine = b.machine()
    parts = (a.only or "cold,warm,trace,ops,opcpu,package,e2e").split(",")
    if "opcpu" in parts and "ops" not in parts:
        parts.append("ops")
    t0 = time.time()
    if "cold" in parts:
        b.cold_all()
    if "warm" in parts:
        b.warm_all()
    if "trace" in parts:
        b.tracing()
    if "ops" in parts:
        b.ops()
    if "opcpu" in parts:  # after ops: each invocation must make the requests ops measured
        b.op_cpu()
    if "package" in parts:
        b.package()
    if "e2e" in parts:
        b.e2e()
    text = b.table(machine) + "\nRun time: %.0f s.\n" % (time.time() - t0)
    sys.stdout.write(text)
    if a.output:
        os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
        with open(a.output, "w") as f:
            f.write(text)
    if a.check and b.missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
