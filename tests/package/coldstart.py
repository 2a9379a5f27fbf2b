#!/usr/bin/env python3
"""Cold-start measurement of bootstrap builds (the figures in docs/packaging.md).

    python3 tests/package/coldstart.py [--runs N] LABEL=PATH [LABEL=PATH ...]

A PATH may be a command with arguments separated by spaces (e.g. a bundled ELF loader:
"dir/ld-linux-x86-64.so.2 --library-path dir dir/bootstrap"). For each build, hyperfine
(Debian's `hyperfine`) runs the process against a Runtime API and a DynamoDB stand-in on
loopback, in two scenarios:

- init:  exec → configuration, DynamoDB client, first GET /invocation/next; the Runtime API
         answers that with 500 and the process exits. What Lambda bills as Init, plus exit.
- first: exec → init → one invocation (GET /users/{id}: SigV4 signing, one GetItem over
         HTTP, answered {} = 404) → response posted → next GET answered 500 → exit.
         The first use of OpenSSL's HMAC lands here.

Timing-dependent, so it is a measurement, not a CI test; it checks that every run made the
requests it should, and fails otherwise. Prints a Markdown table (medians in ms).
"""

import argparse
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import zlib

NEXT = "/2018-06-01/runtime/invocation/next"
USER_ID = "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"


def rest_get_event():
    return {
        "resource": "/users/{userId}",
        "path": "/users/" + USER_ID,
        "httpMethod": "GET",
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"userId": USER_ID},
        "stageVariables": None,
        "requestContext": {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "stage": "prod",
                           "resourcePath": "/users/{userId}", "httpMethod": "GET"},
        "body": None,
        "isBase64Encoded": False,
    }


class Stub:
    """Runtime API + DynamoDB on one loopback port. Runs are strictly sequential (hyperfine),
    so a tiny state machine tells each process's first /next from its second."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "init"
        self.served = False
        self.counts = {"next": 0, "event": 0, "response": 0, "ddb": 0, "other": 0}
        stub = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                # Headers and body as two writes would otherwise stall on Nagle + delayed ACK.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with stub.lock:
                    stub.counts["next" if self.path == NEXT else "other"] += 1
                    give_event = stub.mode == "first" and not stub.served and self.path == NEXT
                    if give_event:
                        stub.served = True
                        stub.counts["event"] += 1
                    else:
                        stub.served = False
                if give_event:
                    body = json.dumps(rest_get_event()).encode()
                    self.reply(200, body, [("Lambda-Runtime-Aws-Request-Id", "req-1"),
                                           ("Lambda-Runtime-Deadline-Ms", "99999999999999")])
                else:
                    self.close_connection = True
                    self.reply(500, b'{"errorType":"Stop"}', [("Connection", "close")])

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                if self.path.startswith("/2018-06-01/runtime/invocation/"):
                    with stub.lock:
                        stub.counts["response"] += 1
                    self.reply(202, b'{"status":"OK"}')
                elif self.path == "/":
                    with stub.lock:
                        stub.counts["ddb"] += 1
                    body = b"{}"
                    self.reply(200, body, [("Content-Type", "application/x-amz-json-1.0"),
                                           ("x-amz-crc32", str(zlib.crc32(body)))])
                else:
                    with stub.lock:
                        stub.counts["other"] += 1
                    self.reply(404)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, mode):
        with self.lock:
            self.mode, self.served = mode, False
            for k in self.counts:
                self.counts[k] = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("builds", nargs="+", metavar="LABEL=PATH")
    args = ap.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("coldstart: hyperfine is missing (apt-get install hyperfine)")
    stub = Stub()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:%d" % stub.port,
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % stub.port,
        "USERS_TABLE": "Users", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
        "LOG_LEVEL": "ERROR",
    })
    tmp = tempfile.mkdtemp(prefix="coldstart-")
    rows, failed = [], False
    total = args.runs + args.warmup
    for spec in args.builds:
        label, _, cmd = spec.partition("=")
        for mode in ("init", "first"):
            stub.reset(mode)
            out = os.path.join(tmp, "%s-%s.json" % (label, mode))
            subprocess.run(["hyperfine", "-N", "-i", "--style", "none", "--warmup", str(args.warmup),
                            "--runs", str(args.runs), "--export-json", out, cmd],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            c = dict(stub.counts)
            want_next = total * (2 if mode == "first" else 1)
            want = {"next": want_next, "event": total if mode == "first" else 0,
                    "response": total if mode == "first" else 0,
                    "ddb": total if mode == "first" else 0, "other": 0}
            if c != want:
                print("coldstart: %s/%s made unexpected requests: %s (wanted %s)" % (label, mode, c, want),
                      file=sys.stderr)
                failed = True
            with open(out) as f:
                r = json.load(f)["results"][0]
            rows.append((label, mode, r["median"] * 1e3, r["mean"] * 1e3, r["stddev"] * 1e3))
    print("| build | scenario | median ms | mean ms | stddev ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for label, mode, med, mean, sd in rows:
        print("| %s | %s | %.2f | %.2f | %.2f |" % (label, mode, med, mean, sd))
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
