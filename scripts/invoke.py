#!/usr/bin/env python3
"""One event, one answer: runs the bootstrap once as Lambda would, behind a one-shot Runtime API.

    python3 scripts/invoke.py --bootstrap PATH (--event FILE | --method M --path P [--body JSON]
                              [--header K:V]... [--payload 1.0|2.0]) [--timeout S] [--json]

scripts/invoke.sh is the command to use (it starts DynamoDB Local when needed and sets the
tables); this is its engine, standard library only.

The Runtime API is Lambda's, for exactly one invocation: the first GET .../invocation/next
hands out the event (with Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn,
-Trace-Id); POST .../invocation/{id}/response or .../error ends it, as does POST
.../runtime/init/error before it, the bootstrap exiting, or the deadline (--timeout, 29 s).
Then the bootstrap is killed (Lambda's shutdown of a runtime without extensions). The bootstrap's
own output (its log lines) goes to stderr as it comes.

Prints to stdout the proxy response (indented JSON; the body parsed when it is JSON, as
"body (parsed)") and a last line "status: N", or "invocation error: ..." for an invocation that
failed. --json prints one JSON object instead: {"outcome": "response"|"error"|"init-error"|
"exited"|"timeout"|"malformed", "statusCode", "response", "error"}.

Exit status: 0 for a response with a status under 400, 4 for 4xx, 5 for 5xx, 1 for an
invocation error (the function reported an error, failed its init, exited or timed out), 3 for
an answer that is not a Lambda proxy response (API Gateway would answer 502), 2 for bad usage.
"""

import argparse
import base64
import http.server
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

RUNTIME = "/2018-06-01/runtime"
FUNCTION_NAME = "users-api-local"
EXIT_OK, EXIT_INVOCATION, EXIT_USAGE, EXIT_MALFORMED = 0, 1, 2, 3
# Never inherited from the shell: ours to name, or one invocation's.
DROPPED = ("AWS_LAMBDA_RUNTIME_API", "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS",
           "_AWS_XRAY_DAEMON_PORT", "_X_AMZN_TRACE_ID")
DEFAULTS = {
    "USERS_TABLE": "Users",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "TZ": ":UTC",
}


def usage_error(msg):
    print(f"invoke: {msg}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def synthesized_event(method, target, body, headers, payload):
    """An API Gateway event for one request, REST (1.0) or HTTP API (2.0), as the local stack
    would send it (stage "local")."""
    path, _, query = target.partition("?")
    params = {}
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        params.setdefault(k, []).append(v)
    now = time.time()
    request_id = str(uuid.uuid4())
    hdrs = {"Host": "127.0.0.1:3000", "User-Agent": "scripts/invoke.sh"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers)
    segments = path.strip("/").split("/")
    user_id = segments[1] if len(segments) == 2 and segments[0] == "users" and segments[1] else None
    if payload == "2.0":
        route = "$default"
        return {
            "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": query,
            "headers": {k.lower(): v for k, v in hdrs.items()},
            **({"queryStringParameters": {k: ",".join(v) for k, v in params.items()}} if params else {}),
            "requestContext": {
                "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1",
                "domainPrefix": "127", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                                  "sourceIp": "127.0.0.1", "userAgent": hdrs["User-Agent"]},
                "requestId": request_id, "routeKey": route, "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000)},
            **({"body": body} if body is not None else {}),
            "isBase64Encoded": False,
        }
    resource = "/users/{userId}" if user_id else path
    return {
        "resource": resource, "path": path, "httpMethod": method,
        "headers": hdrs, "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": {k: v[-1] for k, v in params.items()} or None,
        "multiValueQueryStringParameters": params or None,
        "pathParameters": {"userId": user_id} if user_id else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "resourcePath": resource,
            "httpMethod": method, "path": "/local" + path, "protocol": "HTTP/1.1", "stage": "local",
            "requestId": request_id, "extendedRequestId": secrets.token_hex(8),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000), "identity": {"sourceIp": "127.0.0.1"}},
        "body": body, "isBase64Encoded": False,
    }


class OneShot:
    """The state of the one invocation; the handler threads and the main thread share it."""

    def __init__(self, event, timeout_s):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.timeout_s = timeout_s
        self.deadline_ms = 0
        self.handed_out = False
        self.done = threading.Event()
        self.next_again = threading.Event()  # the bootstrap is back at /next: its work is done
        self.outcome = None  # "response", "error", "init-error"
        self.payload = b""
        self.lock = threading.Lock()

    def finish(self, outcome, payload):
        with self.lock:
            if self.outcome is None:
                self.outcome, self.payload = outcome, payload
        self.done.set()


def handler_for(shot):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != RUNTIME + "/invocation/next":
                return self.reply(404, b'{"errorMessage":"not found"}')
            with shot.lock:
                first = not shot.handed_out
                shot.handed_out = True
            if not first:
                # One event only: this bootstrap waits here until it is stopped.
                shot.next_again.set()
                shot.done.wait()
                time.sleep(3600)
                return None
            shot.deadline_ms = int(time.time() * 1000) + shot.timeout_s * 1000
            root = "1-%08x-%s" % (int(time.time()), secrets.token_hex(12))
            return self.reply(200, shot.event, [
                ("Lambda-Runtime-Aws-Request-Id", shot.request_id),
                ("Lambda-Runtime-Deadline-Ms", str(shot.deadline_ms)),
                ("Lambda-Runtime-Invoked-Function-Arn",
                 f"arn:aws:lambda:{os.environ.get('AWS_REGION', 'us-east-1')}:123456789012:function:{FUNCTION_NAME}"),
                ("Lambda-Runtime-Trace-Id", f"Root={root};Parent={secrets.token_hex(8)};Sampled=0"),
            ])

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == RUNTIME + "/init/error":
                self.reply(202, b'{"status":"OK"}')
                return shot.finish("init-error", body)
            for kind in ("response", "error"):
                if self.path == f"{RUNTIME}/invocation/{shot.request_id}/{kind}":
                    self.reply(202, b'{"status":"OK"}')
                    return shot.finish(kind, body)
            return self.reply(400, b'{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}')

    return Handler


def stop(proc):
    """The end of the environment: SIGKILL to the whole process group, as Lambda ends a runtime
    that registered no extension (only extensions are sent SIGTERM first)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def invoke(bootstrap, event, timeout_s, env_extra=None):
    """Runs bootstrap for one event: (outcome, payload bytes). outcome: response, error,
    init-error, exited, timeout."""
    shot = OneShot(event, timeout_s)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(shot))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    for k, v in DEFAULTS.items():
        env.setdefault(k, v)
    env.update(env_extra or {})
    env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:%d" % server.server_address[1]
    # Line-buffered stdout: the log line is out before the bootstrap is stopped (glibc's stdio
    # would hold it in a pipe's buffer; in Lambda the runtime flushes to CloudWatch).
    argv = ["stdbuf", "-oL", bootstrap] if shutil.which("stdbuf") else [bootstrap]
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr,
                            start_new_session=True)
    try:
        # Init plus the invocation: the init has its own 10 s in Lambda, the invocation timeout_s.
        limit = time.monotonic() + timeout_s + 10
        while not shot.done.wait(0.05):
            if proc.poll() is not None:
                shot.done.wait(0.2)  # an answer posted just before the exit still counts
                shot.finish("exited", f"the bootstrap exited with status {proc.returncode}".encode())
            elif time.monotonic() > limit or (shot.deadline_ms and time.time() * 1000 > shot.deadline_ms):
                shot.finish("timeout", f"Task timed out after {timeout_s} seconds".encode())
        # As in Lambda, the invocation's work ends when the runtime asks for the next event:
        # what it logs after answering (its invocation line) is still printed.
        if shot.outcome in ("response", "error"):
            limit = time.monotonic() + 5
            while not shot.next_again.wait(0.05) and proc.poll() is None and time.monotonic() < limit:
                pass
    finally:
        stop(proc)
        server.shutdown()
        server.server_close()
    return shot.outcome, shot.payload


def proxy_status(payload):
    """(statusCode, parsed response) of a Lambda proxy response, or (None, why) when it is not one."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return None, "the answer is not JSON"
    if not isinstance(doc, dict):
        return None, "the answer is not a JSON object"
    status = doc.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return None, "statusCode is missing or out of range"
    return status, doc


def exit_code(outcome, status):
    if outcome != "response":
        return EXIT_INVOCATION
    if status is None:
        return EXIT_MALFORMED
    return 5 if status >= 500 else 4 if status >= 400 else EXIT_OK


def main():
    ap = argparse.ArgumentParser(description="Run the bootstrap once for one event.")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--event")
    ap.add_argument("--method")
    ap.add_argument("--path")
    ap.add_argument("--body")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--payload", choices=["1.0", "2.0"], default="1.0")
    ap.add_argument("--timeout", type=int, default=29)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if bool(a.event) == bool(a.method or a.path):
        usage_error("give --event FILE, or --method M --path P (not both)")
    if a.event:
        if a.body is not None or a.header:
            usage_error("--body and --header go with --method/--path, not --event")
        try:
            with open(a.event, "rb") as f:
                event = f.read()
        except OSError as e:
            usage_error(f"cannot read {a.event}: {e.strerror}")
        try:
            json.loads(event)
        except ValueError as e:
            usage_error(f"{a.event} is not JSON: {e}")
    else:
        if not (a.method and a.path and a.path.startswith("/")):
            usage_error("--method and --path (starting with /) go together")
        headers = {}
        for h in a.header:
            k, sep, v = h.partition(":")
            if not sep or not k.strip():
                usage_error(f"--header wants NAME:VALUE, not {h!r}")
            headers[k.strip()] = v.strip()
        if a.body is not None:
            try:
                json.loads(a.body)
            except ValueError:
                print("invoke: note: --body is not JSON; sent as it is", file=sys.stderr)
        event = json.dumps(synthesized_event(a.method.upper(), a.path, a.body, headers, a.payload)).encode()
    if not os.access(a.bootstrap, os.X_OK):
        usage_error(f"no executable bootstrap at {a.bootstrap}")

    outcome, payload = invoke(a.bootstrap, event, a.timeout)
    status, doc = proxy_status(payload) if outcome == "response" else (None, None)
    if outcome == "response" and status is None:
        outcome = "malformed"
    code = exit_code("response" if outcome == "malformed" else outcome, status)
    text = payload.decode("utf-8", "replace")
    if a.json:
        error = None
        if outcome not in ("response",):
            try:
                error = json.loads(text)
            except ValueError:
                error = text
        print(json.dumps({"outcome": outcome, "statusCode": status,
                          "response": doc if status is not None else None, "error": error}))
    elif status is not None:
        shown = dict(doc)
        body = doc.get("body")
        if isinstance(body, str) and not doc.get("isBase64Encoded"):
            try:
                shown["body (parsed)"] = json.loads(body)
            except ValueError:
                pass
        elif isinstance(body, str):
            shown["body (decoded bytes)"] = len(base64.b64decode(body, validate=False))
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        print(f"status: {status}")
    elif outcome == "malformed":
        print(text)
        print(f"not a Lambda proxy response ({doc}): API Gateway would answer 502")
    else:
        print(text)
        print("invocation error: " + {
            "error": "the function reported an error", "init-error": "the function's init failed",
            "exited": "the bootstrap exited without answering", "timeout": "the function timed out"}[outcome])
    sys.exit(code)


if __name__ == "__main__":
    main()
