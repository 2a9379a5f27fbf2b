"""When DynamoDB misbehaves: throttling and 5xx are retried within the deadline, exhaustion is
a 503 with Retry-After, non-retryable errors are a 500 that leaks nothing, and an endpoint that
is down or never answers never hangs the invocation past its deadline."""

import collections
import http.client
import http.server
import json
import socket
import threading
import time
import uuid

from harness import CONFIG, BootstrapCase, free_port

THROTTLE = (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
THROTTLING = (400, "com.amazon.coral.availability#ThrottlingException")
INTERNAL = (500, "com.amazon.coral.service#InternalFailure")
UNAVAILABLE = (503, "com.amazon.coral.availability#ServiceUnavailableException")
VALIDATION = (400, "com.amazon.coral.validate#ValidationException")
ACCESS_DENIED = (400, "com.amazon.coral.service#AccessDeniedException")

DEADLINE_S = 10.0  # the fake Runtime API's Lambda-Runtime-Deadline-Ms is now + 10 s


class FlakyDynamo:
    """A DynamoDB endpoint that answers the next planned failures itself and forwards every
    other request to DynamoDB Local. Counts the requests it sees."""

    def __init__(self):
        self.plan = collections.deque()
        self.lock = threading.Lock()
        self.requests = []  # X-Amz-Target of each request
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.requests.append(self.headers.get("X-Amz-Target"))
                    planned = proxy.plan.popleft() if proxy.plan else None
                if planned:
                    status, typ = planned
                    out = json.dumps({"__type": typ, "message": "injected by the test"}).encode()
                else:
                    conn = http.client.HTTPConnection("127.0.0.1", CONFIG.ddb.port, timeout=10)
                    fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request("POST", "/", body=body, headers=fwd)
                    resp = conn.getresponse()
                    status, out = resp.status, resp.read()
                    conn.close()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(out)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(out)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def inject(self, *failures):
        with self.lock:
            self.plan.clear()
            self.plan.extend(failures)
            self.requests.clear()

    def seen(self):
        with self.lock:
            return list(self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Blackhole:
    """Accepts TCP connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                return

    def stop(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            c.close()


class _FailureCase(BootstrapCase):
    ALLOW_5XX = True

    def assert_503(self, r, started):
        elapsed = time.monotonic() - started
        p = self.assert_problem(r, 503, "SERVICE_UNAVAILABLE")
        ra = r.headers.get("Retry-After")
        self.assertTrue(ra is not None and ra.isdigit() and int(ra) >= 1, "Retry-After: %r" % ra)
        self.assertLess(elapsed, DEADLINE_S, "answered %.1f s after the invocation started" % elapsed)
        return p

    def timed(self, *a, **kw):
        t0 = time.monotonic()
        return self.rest(*a, **kw), t0

    def only_line(self, r):
        lines = self.invocation_log(r)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]


class _FakeDynamoCase(_FailureCase):
    """A bootstrap whose DynamoDB endpoint is cls.fake, an instance of FAKE (port, stop())."""

    FAKE = None

    @classmethod
    def setUpClass(cls):
        cls.fake = cls.FAKE()
        cls.ENV = {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % cls.fake.port}
        try:
            super().setUpClass()
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.fake.stop()


class FlakyDynamoTest(_FakeDynamoCase):
    FAKE = FlakyDynamo

    def setUp(self):
        self.fake.inject()

    def test_throttled_create_is_retried_once_created(self):
        email = "throttled.%s@example.com" % uuid.uuid4().hex[:8]
        self.fake.inject(THROTTLE, THROTTLING)
        r = self.rest("POST", "/users", {"name": "Throttled", "email": email})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(self.fake.seen()), 3, self.fake.seen())
        self.assertEqual(self.only_line(r).get("ddbAttempts"), 3)
        same = [i for i in CONFIG.ddb.scan_all(self.TABLE) if i.get("email") == {"S": email}]
        self.assertEqual(len(same), 1, "retries must not create duplicates: %r" % same)
        self.assertEqual(same[0]["userId"], {"S": r.json["userId"]})

    def test_5xx_then_success(self):
        u = self.create_user(name="Flaky Read")
        self.fake.inject(INTERNAL, UNAVAILABLE)
        r = self.rest("GET", "/users/" + u["userId"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, u)
        self.assertEqual(self.only_line(r).get("ddbAttempts"), 3)

    def test_retried_update_and_delete(self):
        u = self.create_user(name="Flaky Write")
        self.fake.inject(THROTTLE)
        p = self.rest("PUT", "/users/" + u["userId"], {"name": "Flaky Write 2"}, headers={"If-Match": '"1"'})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["version"], 2)
        self.fake.inject(INTERNAL)
        d = self.rest("DELETE", "/users/" + u["userId"])
        self.assertEqual(d.status, 200, d)
        self.assertIsNone(CONFIG.ddb.get_item(self.TABLE, u["userId"]))

    def test_persistent_throttling_is_503(self):
        self.fake.inject(*([THROTTLE] * 100))
        r, t0 = self.timed("GET", "/users/" + str(uuid.uuid4()))
        self.assert_503(r, t0)
        n = len(self.fake.seen())
        self.assertGreaterEqual(n, 2, "throttling was not retried")
        self.assertLess(n, 100, "retries are not capped")
        line = self.only_line(r)
        self.assertEqual(line.get("ddbAttempts"), n)
        self.assertEqual(line.get("status"), 503)
        # Afterwards the service is fine again.
        self.fake.inject()
        ok = self.rest("GET", "/users", query={"limit": "1"})
        self.assertEqual(ok.status, 200, ok)

    def test_non_retryable_errors_are_500_and_not_leaked(self):
        for failure in (VALIDATION, ACCESS_DENIED):
            with self.subTest(error=failure[1]):
                self.fake.inject(failure)
                r = self.rest("GET", "/users/" + str(uuid.uuid4()))
                self.assert_problem(r, 500, "INTERNAL")
                self.assertEqual(len(self.fake.seen()), 1, "a non-retryable error was retried")
                short = failure[1].split("#")[1]
                self.assertNotIn(short, r.body_text)
                self.assertNotIn("injected by the test", r.body_text)
                line = self.only_line(r)
                self.assertIn(short, line.get("ddbError", ""), line)


class DynamoUnreachableTest(_FailureCase):
    @classmethod
    def setUpClass(cls):
        cls.ENV = {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % free_port()}  # nobody listens
        super().setUpClass()

    def test_unreachable_is_503_within_deadline(self):
        for method, path, body in (("GET", "/users/" + str(uuid.uuid4()), None),
                                   ("GET", "/users", None),
                                   ("POST", "/users", {"name": "Down", "email": "down@example.com"})):
            with self.subTest(method=method, path=path):
                r, t0 = self.timed(method, path, body)
                self.assert_503(r, t0)
                # The log line says why: curl's reason, as DynamoDB gave none.
                self.assertIn("transport: ", self.only_line(r).get("ddbError", ""))

    def test_checks_before_dynamodb_still_answer(self):
        self.assert_problem(self.rest("POST", "/users", {"name": ""}), 400, "VALIDATION_FAILED")
        self.assert_problem(self.rest("GET", "/users/NOPE"), 404, "NOT_FOUND")
        self.assertEqual(self.rest("OPTIONS", "/users").status, 204)


class DynamoBlackholeTest(_FakeDynamoCase):
    FAKE = Blackhole

    def test_silent_endpoint_is_503_before_the_deadline(self):
        r, t0 = self.timed("GET", "/users/" + str(uuid.uuid4()), timeout=DEADLINE_S + 5)
        self.assert_503(r, t0)
        # The process serves the next invocation too.
        r2, t1 = self.timed("PUT", "/users/" + str(uuid.uuid4()), {"name": "x"}, timeout=DEADLINE_S + 5)
        self.assert_503(r2, t1)


class MissingTableTest(_FailureCase):
    TABLE = "NoSuchTable"
    CREATE_TABLE = False

    def test_missing_table_is_500_internal(self):
        for method, path, body in (("GET", "/users/" + str(uuid.uuid4()), None),
                                   ("GET", "/users", None),
                                   ("POST", "/users", {"name": "Lost", "email": "lost@example.com"}),
                                   ("DELETE", "/users/" + str(uuid.uuid4()), None)):
            with self.subTest(method=method, path=path):
                r = self.rest(method, path, body)
                self.assert_problem(r, 500, "INTERNAL")
                self.assertNotIn("ResourceNotFound", r.body_text)
                self.assertNotIn(self.TABLE, r.body_text)
                line = self.only_line(r)
                self.assertIn("ResourceNotFoundException", line.get("ddbError", ""), line)
                self.assertEqual(line.get("ddbAttempts"), 1, line)
                self.assertEqual(line.get("level"), "ERROR", line)
