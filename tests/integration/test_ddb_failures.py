"""When DynamoDB misbehaves: throttling and 5xx are retried within the deadline, exhaustion is
a 503 with Retry-After, non-retryable errors are a 500 that leaks nothing, and an endpoint that
is down or never answers never hangs the invocation past its deadline.

Issue 11: a write that DynamoDB Local really applied and whose answer was then lost (dropped
connection, or a stall past the attempt's timeout) is answered exactly as one successful attempt
would have been, and is applied once; a stalled connection leaves time for a retry within
Lambda's default 3 s deadline; credentials refused three times in a row end the process.

Phase 2: creates, address changes and deletes are transactions with a ClientRequestToken,
which DynamoDB (and DynamoDB Local) answers with success when a retry meets an applied one:
such a lost answer is a 201 / 200, and the user, its claim and its version moved once."""

import collections
import http.client
import http.server
import json
import socket
import sys
import threading
import time
import unittest
import uuid

from harness import CONFIG, Bootstrap, BootstrapCase, RuntimeAPI, free_port, api_event

THROTTLE = (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
THROTTLING = (400, "com.amazon.coral.availability#ThrottlingException")
INTERNAL = (500, "com.amazon.coral.service#InternalFailure")
UNAVAILABLE = (503, "com.amazon.coral.availability#ServiceUnavailableException")
VALIDATION = (400, "com.amazon.coral.validate#ValidationException")
ACCESS_DENIED = (400, "com.amazon.coral.service#AccessDeniedException")
# A transaction cancelled only because another one held an item: retried as a passing fault.
CONFLICT = (400, "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            {"CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict",
                                                         "Message": "Transaction is ongoing for the item"}]})
IN_PROGRESS = (400, "com.amazonaws.dynamodb.v20120810#TransactionInProgressException")

DEADLINE_S = 10.0  # the fake Runtime API's Lambda-Runtime-Deadline-Ms is now + 10 s
ATTEMPT_CAP_S = 2.0  # UA_DDB_ATTEMPT_TIMEOUT_MS: no attempt waits longer (common.h)


class Lose:
    """A planned request whose answer never arrives: DynamoDB Local applies it first when
    `apply`, then the connection is dropped at once or after `stall_s` seconds."""

    def __init__(self, apply, stall_s=0.0):
        self.apply = apply
        self.stall_s = stall_s


APPLY_THEN_DROP = Lose(apply=True)


def apply_then_stall(seconds):
    return Lose(apply=True, stall_s=seconds)


def stall(seconds):
    return Lose(apply=False, stall_s=seconds)


class FlakyDynamo:
    """A DynamoDB endpoint that answers the next planned failures itself (an error document,
    or a Lose) and forwards every other request to DynamoDB Local, so that state and conditions
    are the real engine's. Counts the requests it sees and what DynamoDB Local answered."""

    def __init__(self):
        self.plan = collections.deque()
        self.lock = threading.Lock()
        self.requests = []  # X-Amz-Target of each request
        self.trace_headers = []  # X-Amzn-Trace-Id of each request (None when absent)
        self.forwarded = []  # (X-Amz-Target, DynamoDB Local's status) of each forwarded one
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def forward(self, body):
                conn = http.client.HTTPConnection("127.0.0.1", CONFIG.ddb.port, timeout=10)
                fwd = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("POST", "/", body=body, headers=fwd)
                resp = conn.getresponse()
                status, out = resp.status, resp.read()
                conn.close()
                with proxy.lock:
                    proxy.forwarded.append((self.headers.get("X-Amz-Target"), status))
                return status, out

            def lose(self, planned, body):
                if planned.apply:
                    self.forward(body)
                if planned.stall_s:
                    time.sleep(planned.stall_s)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    proxy.requests.append(self.headers.get("X-Amz-Target"))
                    proxy.trace_headers.append(self.headers.get("X-Amzn-Trace-Id"))
                    planned = proxy.plan.popleft() if proxy.plan else None
                if isinstance(planned, Lose):
                    self.lose(planned, body)
                    return
                if planned:
                    status, typ = planned[:2]
                    doc = {"__type": typ, "message": "injected by the test"}
                    doc.update(planned[2] if len(planned) > 2 else {})
                    out = json.dumps(doc).encode()
                else:
                    status, out = self.forward(body)
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
            self.trace_headers.clear()
            self.forwarded.clear()

    def seen(self):
        with self.lock:
            return list(self.requests)

    def applied(self, operation):
        """How many forwarded requests of operation DynamoDB Local acknowledged (200). A
        transaction retried with its ClientRequestToken is acknowledged again without being
        applied again: count those with tokens()."""
        with self.lock:
            return sum(1 for t, st in self.forwarded if t == "DynamoDB_20120810." + operation and st == 200)

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
        return self.api(*a, **kw), t0

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
        cls.ENV = dict(cls.ENV, AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:%d" % cls.fake.port)
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
        r = self.api("POST", "/users", {"name": "Throttled", "email": email})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(len(self.fake.seen()), 3, self.fake.seen())
        self.assertEqual(self.only_line(r).get("ddbAttempts"), 3)
        same = [i for i in CONFIG.ddb.scan_all(self.TABLE) if i.get("email") == {"S": email}]
        self.assertEqual(len(same), 1, "retries must not create duplicates: %r" % same)
        self.assertEqual(same[0]["userId"], {"S": r.json["userId"]})

    def test_conflicting_transaction_is_retried(self):
        email = "conflict.%s@example.com" % uuid.uuid4().hex[:8]
        self.fake.inject(CONFLICT, IN_PROGRESS)
        r = self.api("POST", "/users", {"name": "Conflicted", "email": email})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.fake.seen(), ["DynamoDB_20120810.TransactWriteItems"] * 3)
        self.assertEqual(self.only_line(r).get("ddbAttempts"), 3)
        same = [i for i in CONFIG.ddb.scan_all(self.TABLE) if i.get("email") == {"S": email}]
        self.assertEqual(len(same), 1, same)

    def test_5xx_then_success(self):
        u = self.create_user(name="Flaky Read")
        self.fake.inject(INTERNAL, UNAVAILABLE)
        r = self.api("GET", "/users/" + u["userId"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, u)
        self.assertEqual(self.only_line(r).get("ddbAttempts"), 3)

    def test_retried_update_and_delete(self):
        u = self.create_user(name="Flaky Write")
        self.fake.inject(THROTTLE)
        p = self.api("PUT", "/users/" + u["userId"], {"name": "Flaky Write 2"}, headers={"If-Match": '"1"'})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["version"], 2)
        self.fake.inject(INTERNAL)
        d = self.api("DELETE", "/users/" + u["userId"])
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
        ok = self.api("GET", "/users", query={"limit": "1"})
        self.assertEqual(ok.status, 200, ok)

    def test_non_retryable_errors_are_500_and_not_leaked(self):
        for failure in (VALIDATION, ACCESS_DENIED):
            with self.subTest(error=failure[1]):
                self.fake.inject(failure)
                r = self.api("GET", "/users/" + str(uuid.uuid4()))
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
        self.assert_problem(self.api("POST", "/users", {"name": ""}), 400, "VALIDATION_FAILED")
        self.assert_problem(self.api("GET", "/users/NOPE"), 404, "NOT_FOUND")
        self.assertEqual(self.api("OPTIONS", "/users").status, 204)


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
                r = self.api(method, path, body)
                self.assert_problem(r, 500, "INTERNAL")
                self.assertNotIn("ResourceNotFound", r.body_text)
                self.assertNotIn(self.TABLE, r.body_text)
                line = self.only_line(r)
                self.assertIn("ResourceNotFoundException", line.get("ddbError", ""), line)
                self.assertEqual(line.get("ddbAttempts"), 1, line)
                self.assertEqual(line.get("level"), "ERROR", line)


class LostAnswerTest(_FakeDynamoCase):
    """Writes that DynamoDB Local applied and whose answer was then lost. Every write answers
    what one successful attempt would have answered, and is applied exactly once."""

    FAKE = FlakyDynamo
    LOSSES = (("dropped", APPLY_THEN_DROP), ("stalled", apply_then_stall(ATTEMPT_CAP_S + 0.5)))

    def setUp(self):
        self.fake.inject()

    def user_at_version_3(self):
        u = self.create_user(name="Lost Answer")
        for age in (1, 2):
            r = self.api("PATCH", "/users/" + u["userId"], {"age": age})
            self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["version"], 3)
        return r.json

    def stored(self, uid):
        return CONFIG.ddb.get_item(self.TABLE, uid)

    def assert_counted_honestly(self, r):
        """ddbAttempts counts every request DynamoDB saw, libcurl's silent re-sends included."""
        self.assertEqual(self.only_line(r).get("ddbAttempts"), len(self.fake.seen()), self.fake.seen())
        self.assertGreaterEqual(len(self.fake.seen()), 2)

    def test_create(self):
        for name, lose in self.LOSSES:
            with self.subTest(loss=name):
                email = "lost.%s@example.com" % uuid.uuid4().hex[:10]
                self.fake.inject(lose)
                r, t0 = self.timed("POST", "/users", {"name": "Lost Create", "email": email, "age": 7})
                self.assertEqual(r.status, 201, r)
                self.assertLess(time.monotonic() - t0, DEADLINE_S)
                uid = r.json["userId"]
                self.assertEqual(r.headers.get("Location"), "/users/" + uid)
                self.assertEqual(r.headers.get("ETag"), '"1"')
                self.assert_user(r.json, name="Lost Create", email=email, age=7, version=1)
                same = [i for i in CONFIG.ddb.scan_all(self.TABLE) if i.get("email") == {"S": email}]
                self.assertEqual(len(same), 1, same)
                self.assertEqual(same[0]["userId"], {"S": uid})
                self.assertEqual(self.claim_owner(email), uid)
                self.assertGreaterEqual(self.fake.applied("TransactWriteItems"), 1)
                self.assert_counted_honestly(r)
                # What a later read returns is what the create answered.
                g = self.api("GET", "/users/" + uid)
                self.assertEqual(g.json, r.json)

    # Each loss, with and without If-Match.
    CASES = [(name, lose, tagged) for name, lose in LOSSES for tagged in (False, True)]

    def about_to_lose(self, lose, tagged):
        """A user at version 3 whose next request's answer will be lost: (user id, headers)."""
        uid = self.user_at_version_3()["userId"]
        self.fake.inject(lose)
        return uid, ({"If-Match": '"3"'} if tagged else None)

    def test_update(self):
        for name, lose, tagged in self.CASES:
            with self.subTest(loss=name, if_match=tagged):
                uid, headers = self.about_to_lose(lose, tagged)
                r = self.api("PATCH", "/users/" + uid, {"age": 5}, headers=headers)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["version"], 4, "applied twice? %r" % r.json)
                self.assertEqual(r.json["age"], 5)
                self.assertEqual(r.headers.get("ETag"), '"4"')
                item = self.stored(uid)
                self.assertEqual(item["version"], {"N": "4"}, item)
                self.assertEqual(item["age"], {"N": "5"}, item)
                self.assertEqual(self.fake.applied("UpdateItem"), 1)
                self.assert_counted_honestly(r)
                self.assertEqual(self.api("GET", "/users/" + uid).json, r.json)

    def claim_owner(self, email):
        """The userId the claims table names for email, or None."""
        item = CONFIG.ddb.ok("GetItem", {"TableName": self.TABLE + "-claims",
                                         "Key": {"pk": {"S": "email#" + email.lower()}},
                                         "ConsistentRead": True}).get("Item")
        return item["userId"]["S"] if item else None

    def test_update_address_change(self):
        # The UpdateItem finds another address (one request, answered), then the transaction's
        # answer is lost: its retry, with the same ClientRequestToken, is acknowledged.
        for name, lose, tagged in self.CASES:
            with self.subTest(loss=name, if_match=tagged):
                uid = self.user_at_version_3()["userId"]
                old = self.api("GET", "/users/" + uid).json["email"]
                new = "moved.%s@example.com" % uuid.uuid4().hex[:10]
                self.fake.inject(None, lose)
                headers = {"If-Match": '"3"'} if tagged else None
                r = self.api("PATCH", "/users/" + uid, {"email": new}, headers=headers)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["version"], 4, "applied twice? %r" % r.json)
                self.assertEqual(r.json["email"], new)
                self.assertEqual(self.stored(uid)["version"], {"N": "4"})
                self.assertEqual(self.claim_owner(new), uid)
                self.assertIsNone(self.claim_owner(old))
                self.assert_counted_honestly(r)
                self.assertEqual(self.api("GET", "/users/" + uid).json, r.json)

    def test_delete(self):
        # The read is answered; the transaction's answer is lost and its retry acknowledged.
        for name, lose, tagged in self.CASES:
            with self.subTest(loss=name, if_match=tagged):
                uid, headers = self.about_to_lose(lose, tagged)
                email = self.api("GET", "/users/" + uid).json["email"]
                self.fake.inject(None, lose)
                r, t0 = self.timed("DELETE", "/users/" + uid, headers=headers)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, {"message": "User deleted", "userId": uid})
                self.assertIsNone(self.stored(uid))
                self.assertIsNone(self.claim_owner(email))
                self.assertEqual(self.fake.seen()[0], "DynamoDB_20120810.GetItem")
                self.assert_counted_honestly(r)
                # The client's retry learns the user is gone.
                self.fake.inject()
                self.assert_problem(self.api("DELETE", "/users/" + uid), 404, "NOT_FOUND")

    def test_delete_not_applied_is_412_when_the_user_moved_on(self):
        u = self.user_at_version_3()
        uid = u["userId"]
        # The read's answer is lost; its retry finds the user at another version than
        # If-Match: 412, and nothing was deleted.
        self.fake.inject(stall(ATTEMPT_CAP_S + 0.5))
        r = self.api("DELETE", "/users/" + uid, headers={"If-Match": '"2"'})
        self.assert_problem(r, 412, "PRECONDITION_FAILED")
        self.assertEqual(self.stored(uid)["version"], {"N": "3"})


class StallTest(_FakeDynamoCase):
    """Lambda's default 3 s timeout: one stalled connection leaves time for a retry that
    answers; a DynamoDB that always stalls is a 503 before the deadline after two attempts or
    more. For each operation."""

    FAKE = FlakyDynamo
    DEADLINE_MS = 3000
    STALL_S = 2.0  # longer than an attempt may wait with 2.7 s left (half of it)

    def setUp(self):
        self.fake.inject()

    def operations(self):
        u = self.create_user(name="Stalled")
        uid = u["userId"]
        email = "stalled.%s@example.com" % uuid.uuid4().hex[:10]
        # (what stalls, method, path, body, query, status, requests when nothing stalls)
        return (
            ("GetItem", "GET", "/users/" + uid, None, None, 200, 1),
            ("Scan", "GET", "/users", None, None, 200, 1),
            ("Query", "GET", "/users", None, {"email": u["email"]}, 200, 1),
            ("TransactWriteItems", "POST", "/users", {"name": "Stalled Create", "email": email}, None,
             201, 1),
            ("UpdateItem", "PATCH", "/users/" + uid, {"age": 9}, None, 200, 1),
            ("GetItem, then TransactWriteItems", "DELETE", "/users/" + uid, None, None, 200, 2),
        )

    def test_stall_once_then_answer(self):
        for op, method, path, body, query, want, requests in self.operations():
            with self.subTest(operation=op):
                self.fake.inject(stall(self.STALL_S))
                r, t0 = self.timed(method, path, body, query=query)
                elapsed = time.monotonic() - t0
                self.assertEqual(r.status, want, r)
                self.assertLess(elapsed, self.DEADLINE_MS / 1000.0, "answered after %.2f s" % elapsed)
                self.assertEqual(len(self.fake.seen()), requests + 1, self.fake.seen())
                self.assertEqual(self.only_line(r).get("ddbAttempts"), requests + 1)
                sys.stderr.write("  %s stalled once: %d in %.2f s (deadline 3 s)\n" % (op, r.status, elapsed))

    def test_always_stall_is_503_before_the_deadline(self):
        for op, method, path, body, query, _, _ in self.operations():
            with self.subTest(operation=op):
                self.fake.inject(*([stall(self.STALL_S)] * 20))
                r, t0 = self.timed(method, path, body, query=query)
                elapsed = time.monotonic() - t0
                p = self.assert_503(r, t0)
                self.assertLess(elapsed, self.DEADLINE_MS / 1000.0, "answered after %.2f s" % elapsed)
                self.assertGreaterEqual(len(self.fake.seen()), 2, "no retry after a stall")
                self.assertEqual(self.only_line(r).get("ddbAttempts"), len(self.fake.seen()))
                self.assertEqual(p["status"], 503)
                sys.stderr.write("  %s always stalled: 503 after %d attempts in %.2f s (deadline 3 s)\n"
                                 % (op, len(self.fake.seen()), elapsed))
        self.fake.inject()


class CredentialFailureTest(unittest.TestCase):
    """Credentials DynamoDB refuses: once is a 500; the third time in a row is a 503 with
    Retry-After, and the process exits non-zero so that Lambda starts a fresh environment."""

    REFUSED = (400, "com.amazon.coral.service#UnrecognizedClientException")

    def start(self, name):
        """A bootstrap whose DynamoDB is a FlakyDynamo: (fake, runtime, bootstrap)."""
        fake = FlakyDynamo()
        self.addCleanup(fake.stop)
        rt = RuntimeAPI()
        self.addCleanup(rt.stop)
        boot = Bootstrap(rt, env_overrides={"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % fake.port},
                         name=name)
        self.addCleanup(boot.stop)
        return fake, rt, boot

    def get_unknown_user(self, rt):
        """The proxy response to GET /users/{a new id}."""
        kind, proxy = rt.invoke(api_event("GET", "/users/" + str(uuid.uuid4())))
        self.assertEqual(kind, "response", proxy)
        return proxy

    def test_third_refusal_in_a_row_ends_the_process(self):
        fake, rt, boot = self.start("credentials")
        fake.inject(*([self.REFUSED] * 3))
        statuses = []
        for _ in range(3):
            proxy = self.get_unknown_user(rt)
            statuses.append(proxy["statusCode"])
        self.assertEqual(statuses, [500, 500, 503], boot.output_tail())
        self.assertTrue(proxy["headers"].get("Retry-After"), proxy)
        self.assertEqual(len(fake.seen()), 3, "a refused credential was retried")
        rc = boot.wait_exit(10)
        self.assertIsNotNone(rc, "the bootstrap kept running with dead credentials")
        self.assertNotEqual(rc, 0)
        self.assertIn(b"refused the credentials", boot.stdout())

    def test_an_answer_in_between_resets_the_count(self):
        CONFIG.ddb.create_users_table("Users")
        fake, rt, boot = self.start("credentials-reset")
        statuses = []
        for plan in ([self.REFUSED], [self.REFUSED], [], [self.REFUSED], [self.REFUSED]):
            fake.inject(*plan)
            statuses.append(self.get_unknown_user(rt)["statusCode"])
        self.assertEqual(statuses, [500, 500, 404, 500, 500], boot.output_tail())
        self.assertTrue(boot.alive(), boot.output_tail())
