"""The core flows as a client sees them: real HTTP through users-gateway (the local stack's
API Gateway + Lambda, run.py --gateway) in front of 2 real bootstrap processes, against the
suite's DynamoDB Local, each class on a fresh table of its own.

Every answer is checked at the HTTP level too: the gateway's ids (x-amzn-RequestId,
x-amz-apigw-id, X-Amzn-Trace-Id; behind an HTTP API, run.py --api http, Apigw-Requestid), no
gateway-made error (x-amzn-ErrorType), no 5xx, and every problem document's requestId equal to
the request id header. Behind an HTTP API every request carries a browser's Origin (the API adds
CORS headers only then), and preflights are answered by the API (no Cache-Control or nosniff
there, and no X-Api-Key among the allowed headers: an HTTP API has no API keys). At the end of each class the
gateway gets SIGTERM and must exit 0 leaving no bootstrap behind; a bootstrap that was
replaced during the class (it crashed or timed out) fails the class.
"""

import math
import re
import threading
import unittest
import uuid

from harness import (
    BROWSER_ORIGIN,
    CONFIG,
    UUID4_RE,
    BootstrapCase,
    GatewayProcess,
    HarnessError,
)
from test_routing import REQUIRED_ALLOW_HEADERS, token_set

MAX_BODY = 16384
HTTP_API_REQUEST_ID = re.compile(r"^[A-Za-z0-9+/]{15}=$")
N_PAGING_USERS = 250
N_PARALLEL = 20


def sized_body(total):
    """A valid create body of exactly `total` bytes (whitespace padding inside the object)."""
    core = '"name":"Big Body","email":"big.%s@example.com"}' % uuid.uuid4().hex[:8]
    return ("{" + " " * (total - 1 - len(core)) + core).encode()


class GatewayCase(unittest.TestCase):
    """One users-gateway (2 bootstraps) per class on a fresh table; a keep-alive HTTP client
    per test. The response assertions are BootstrapCase's, applied to real HTTP answers."""

    TABLE = None  # set by subclasses: a table no other class uses
    INSTANCES = 2
    THROUGH_GATEWAY = True  # run.py --no-gateway leaves these out, in whatever module

    assert_common_headers = BootstrapCase.assert_common_headers
    assert_problem = BootstrapCase.assert_problem
    assert_user = BootstrapCase.assert_user

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if CONFIG.gateway is None:
            raise AssertionError(
                "users-gateway not given: run.py needs --gateway PATH (build/<preset>/users-gateway) "
                "to run the flows through the gateway, or --no-gateway to leave them out")
        existing = CONFIG.ddb.call("DescribeTable", {"TableName": cls.TABLE})[0]
        if existing == 200:
            raise HarnessError("table %s already exists: each gateway class needs a fresh one" % cls.TABLE)
        CONFIG.ddb.create_users_table(cls.TABLE)
        cls.gw = GatewayProcess(cls.TABLE, instances=cls.INSTANCES, name=cls.__name__)

    @classmethod
    def tearDownClass(cls):
        gw = cls.gw
        gw.bootstraps()  # records the ones running now in gw.seen
        replaced = sorted(set(gw.seen) - set(gw.started_with))
        problems = gw.stop()
        super().tearDownClass()
        if replaced:
            problems.insert(0, "bootstrap processes were replaced during the class (started with %s, "
                            "later also %s): one crashed or was killed" % (gw.started_with, replaced))
        if problems:
            raise AssertionError("%s: %s" % (cls.__name__, "\n".join(problems)))

    def setUp(self):
        self.client = self.gw.client()
        self.addCleanup(self.client.close)

    # ---- sending -------------------------------------------------------------------------

    def http(self, method, path, body=None, headers=None, query=None, client=None):
        r = (client or self.client).request(method, path, body=body, headers=headers, query=query)
        self.check_http(r)
        return r

    def check_http(self, r):
        """What every answer through the gateway carries, whatever the status."""
        if CONFIG.api == "http":
            self.assertRegex(r.headers.get("Apigw-Requestid") or "", HTTP_API_REQUEST_ID,
                             "Apigw-Requestid missing or not an HTTP API request id: %r" % r)
            for rest_only in ("x-amzn-RequestId", "x-amz-apigw-id", "X-Amzn-Trace-Id"):
                self.assertNotIn(rest_only, r.headers, "a REST API's header: %r" % r)
        else:
            self.assertRegex(r.headers.get("x-amzn-RequestId") or "", UUID4_RE,
                             "x-amzn-RequestId missing or not a UUID: %r" % r)
            self.assertTrue(r.headers.get("x-amz-apigw-id"), "x-amz-apigw-id missing: %r" % r)
            self.assertTrue((r.headers.get("X-Amzn-Trace-Id") or "").startswith("Root=1-"), r)
        self.assertNotIn("x-amzn-ErrorType", r.headers, "an error made by the gateway: %r" % r)
        self.assertLess(r.status, 500, "a 5xx for a test request: %r" % r)
        if r.status == 204 or r.method == "HEAD":
            self.assertEqual(r.body, b"", r)

    def create(self, name="Ada Lovelace", email=None, age=None, client=None):
        body = {"name": name, "email": email or "ada.%s@example.com" % uuid.uuid4().hex[:10]}
        if age is not None:
            body["age"] = age
        r = self.http("POST", "/users", body, client=client)
        self.assertEqual(r.status, 201, r)
        return r.json

    def stored(self, uid):
        return CONFIG.ddb.get_item(self.TABLE, uid)


class GatewayFlowsTest(GatewayCase):
    TABLE = "UsersViaGateway"

    def test_gateway_runs_two_bootstraps(self):
        self.assertEqual(len(self.gw.bootstraps()), 2, self.gw.output_tail())

    def test_full_crud_flow(self):
        email = "ada.%s@example.com" % uuid.uuid4().hex[:8]
        c = self.http("POST", "/users", {"name": "  Ada Lovelace ", "email": email, "age": 36})
        self.assertEqual(c.status, 201, c)
        self.assert_common_headers(c)
        user = c.json
        self.assert_user(user, name="Ada Lovelace", email=email, age=36, version=1)
        uid = user["userId"]
        self.assertEqual(c.headers.get("Location"), "/users/" + uid, c)
        self.assertEqual(c.headers.get("ETag"), '"1"', c)
        self.assertEqual(user["createdAt"], user["updatedAt"], user)
        item = self.stored(uid)
        self.assertIsNotNone(item, "the user created through the gateway is not in %s" % self.TABLE)
        self.assertEqual(item["name"], {"S": "Ada Lovelace"})
        self.assertEqual(item["version"], {"N": "1"})

        g = self.http("GET", "/users/" + uid)
        self.assertEqual(g.status, 200, g)
        self.assert_common_headers(g)
        self.assertEqual(g.json, user)
        self.assertEqual(g.headers.get("ETag"), '"1"', g)

        # PUT is a partial update: only the name changes.
        p = self.http("PUT", "/users/" + uid, {"name": "Augusta Ada King"})
        self.assertEqual(p.status, 200, p)
        self.assert_common_headers(p)
        self.assert_user(p.json, name="Augusta Ada King", email=email, age=36, version=2)
        self.assertEqual(p.json["userId"], uid)
        self.assertEqual(p.json["createdAt"], user["createdAt"])
        self.assertEqual(p.headers.get("ETag"), '"2"', p)
        g2 = self.http("GET", "/users/" + uid)
        self.assertEqual(g2.status, 200, g2)
        self.assertEqual(g2.json, p.json)
        self.assertEqual(g2.headers.get("ETag"), '"2"', g2)

        # PATCH with "age": null removes the age.
        pa = self.http("PATCH", "/users/" + uid, {"age": None})
        self.assertEqual(pa.status, 200, pa)
        self.assert_common_headers(pa)
        self.assert_user(pa.json, name="Augusta Ada King", email=email, age="absent", version=3)
        self.assertEqual(pa.headers.get("ETag"), '"3"', pa)
        self.assertNotIn("age", self.stored(uid), "age still stored after \"age\": null")
        g3 = self.http("GET", "/users/" + uid)
        self.assertEqual(g3.json, pa.json)
        self.assertEqual(g3.headers.get("ETag"), '"3"', g3)

        d = self.http("DELETE", "/users/" + uid)
        self.assertEqual(d.status, 200, d)
        self.assert_common_headers(d)
        self.assertEqual(d.json, {"message": "User deleted", "userId": uid})
        self.assertIsNone(self.stored(uid))

        gone = self.http("GET", "/users/" + uid)
        p404 = self.assert_problem(gone, 404, "NOT_FOUND")
        self.assertEqual(p404["requestId"], gone.request_id, gone)
        again = self.http("DELETE", "/users/" + uid)
        self.assert_problem(again, 404, "NOT_FOUND")
        self.assertNotEqual(again.json["requestId"], p404["requestId"], "requestId must be per request")

    def test_keep_alive_connection_is_reused(self):
        u = self.create(name="Kept Alive")
        sock = self.client.conn.sock
        self.assertIsNotNone(sock, "the gateway closed the connection after a 201")
        for _ in range(3):
            r = self.http("GET", "/users/" + u["userId"])
            self.assertEqual(r.status, 200, r)
        self.assertIs(self.client.conn.sock, sock, "the connection was not kept alive")

    def test_if_match(self):
        u = self.create(name="Versioned", age=20)
        uid = u["userId"]
        ok = self.http("PUT", "/users/" + uid, {"name": "Versioned 2"}, headers={"If-Match": '"1"'})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.headers.get("ETag"), '"2"', ok)
        before = self.stored(uid)
        for method, body in (("PUT", {"name": "Lost"}), ("PATCH", {"age": 99}), ("DELETE", None)):
            with self.subTest(stale=method):
                r = self.http(method, "/users/" + uid, body, headers={"If-Match": '"1"'})
                self.assert_problem(r, 412, "PRECONDITION_FAILED")
                self.assertEqual(self.stored(uid), before, "a 412 must leave the item unchanged")
        g = self.http("GET", "/users/" + uid)
        self.assertEqual(g.json, ok.json)

        missing = str(uuid.uuid4())
        for method, body in (("PUT", {"name": "Ghost"}), ("PATCH", {"name": "Ghost"}), ("DELETE", None)):
            with self.subTest(missing=method):
                r = self.http(method, "/users/" + missing, body, headers={"If-Match": '"1"'})
                self.assert_problem(r, 404, "NOT_FOUND")
        self.assertIsNone(self.stored(missing), "a conditional update must never create the user")

        d = self.http("DELETE", "/users/" + uid, headers={"If-Match": '"2"'})
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json, {"message": "User deleted", "userId": uid})

    def test_validation_reports_every_field(self):
        r = self.http("POST", "/users", {"name": "   ", "email": "not-an-email", "age": 200})
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(e["field"] for e in p.get("errors", [])), ["age", "email", "name"], p)
        r2 = self.http("POST", "/users", {"name": "X", "email": "x@example.com", "userId": str(uuid.uuid4()),
                                          "nickname": "x"})
        p2 = self.assert_problem(r2, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(e["field"] for e in p2.get("errors", [])), ["nickname", "userId"], p2)
        bad_json = self.http("POST", "/users", "{\"name\": ")
        self.assert_problem(bad_json, 400, "INVALID_JSON")
        u = self.create(name="Valid")
        empty = self.http("PATCH", "/users/" + u["userId"], {})
        self.assert_problem(empty, 400, "VALIDATION_FAILED")

    def test_unsupported_media_type_is_415(self):
        for ct in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
            with self.subTest(content_type=ct):
                r = self.http("POST", "/users", '{"name":"A","email":"a@example.com"}',
                              headers={"Content-Type": ct})
                self.assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_body_size_limit(self):
        big = self.http("POST", "/users", sized_body(MAX_BODY + 1))
        self.assertEqual(len(sized_body(MAX_BODY + 1)), 16385)
        self.assert_problem(big, 413, "PAYLOAD_TOO_LARGE")
        u = self.create(name="Target")
        big_put = self.http("PUT", "/users/" + u["userId"], b'{"name":"x"' + b" " * (MAX_BODY - 11) + b"}")
        self.assert_problem(big_put, 413, "PAYLOAD_TOO_LARGE")
        ok = self.http("POST", "/users", sized_body(MAX_BODY))
        self.assertEqual(ok.status, 201, ok)
        self.assert_user(ok.json, name="Big Body", version=1)

    def test_unknown_path_is_404(self):
        for method, path in (("GET", "/"), ("GET", "/widgets"), ("POST", "/userss"),
                             ("GET", "/users/%s/orders" % uuid.uuid4()), ("OPTIONS", "/nowhere")):
            with self.subTest(method=method, path=path):
                r = self.http(method, path)
                self.assert_problem(r, 404, "NOT_FOUND")
        r = self.http("GET", "/users/not-a-uuid")
        self.assert_problem(r, 404, "NOT_FOUND")

    def test_unsupported_method_is_405_with_allow(self):
        uid = str(uuid.uuid4())
        cases = [("DELETE", "/users", {"GET", "POST", "OPTIONS"}, {"DELETE", "PUT", "PATCH"}),
                 ("PUT", "/users", {"GET", "POST", "OPTIONS"}, {"DELETE", "PUT", "PATCH"}),
                 ("POST", "/users/" + uid, {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"}, {"POST"})]
        for method, path, must, must_not in cases:
            with self.subTest(method=method, path=path):
                r = self.http(method, path)
                self.assert_problem(r, 405, "METHOD_NOT_ALLOWED")
                allow = token_set(r.headers.get("Allow"))
                self.assertTrue(must <= allow, "Allow %r lacks %r" % (allow, must - allow))
                self.assertFalse(allow & must_not, "Allow %r lists %r" % (allow, allow & must_not))
        # HEAD: the same 405 and Allow, without a body (HTTP).
        h = self.http("HEAD", "/users")
        self.assertEqual(h.status, 405, h)
        self.assertIn("OPTIONS", token_set(h.headers.get("Allow")), h)
        self.assertEqual(h.headers.get("Access-Control-Allow-Origin"), "*", h)

    def test_preflight_is_204_with_cors(self):
        for path in ("/users", "/users/" + str(uuid.uuid4())):
            with self.subTest(path=path):
                r = self.http("OPTIONS", path, headers={
                    "Origin": "https://app.example.com",
                    "Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "content-type,if-match",
                })
                self.assertEqual(r.status, 204, r)
                if CONFIG.api == "http":  # answered by the API itself, from its CORS configuration
                    self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "*", r)
                    self.assertNotIn("Cache-Control", r.headers, "the function answered: %r" % r)
                else:
                    self.assert_common_headers(r)
                self.assertEqual(r.body, b"", r)
                methods = token_set(r.headers.get("Access-Control-Allow-Methods"))
                expected = ({"GET", "POST", "OPTIONS"} if path == "/users"
                            else {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"})
                self.assertTrue(expected <= methods, "Allow-Methods %r lacks %r" % (methods, expected - methods))
                allowed = {x.lower() for x in token_set(r.headers.get("Access-Control-Allow-Headers"))}
                required = REQUIRED_ALLOW_HEADERS - ({"x-api-key"} if CONFIG.api == "http" else set())
                self.assertTrue(required <= allowed,
                                "Allow-Headers %r lacks %r" % (allowed, required - allowed))
                max_age = r.headers.get("Access-Control-Max-Age") or ""
                self.assertTrue(max_age.isdigit() and int(max_age) > 0, r)

    def test_cors_headers_and_origin(self):
        """A REST API passes the function's CORS headers on, Origin or not; an HTTP API with
        CORS configured replaces them with its own, and only for a request with an Origin."""
        with_origin = self.http("GET", "/users", query={"limit": "1"}, headers={"Origin": BROWSER_ORIGIN})
        self.assertEqual(with_origin.headers.get("Access-Control-Allow-Origin"), "*", with_origin)
        self.assertEqual(with_origin.headers.get("Access-Control-Expose-Headers"), "ETag, Location",
                         with_origin)
        without = self.http("GET", "/users", query={"limit": "1"}, headers={"Origin": None})
        self.assertEqual(without.status, 200, without)
        if CONFIG.api == "http":
            self.assertNotIn("Access-Control-Allow-Origin", without.headers, without)
        else:
            self.assertEqual(without.headers.get("Access-Control-Allow-Origin"), "*", without)

    def test_parallel_requests_on_two_bootstraps(self):
        target = self.create(name="Read Target", age=30)
        patched = self.create(name="Patch Target")
        # 12 creates, 4 reads of one user, 4 unconditional PATCHes of another, all at once.
        jobs = ([("POST", "/users", {"name": "Parallel %02d" % i,
                                     "email": "par%02d.%s@example.com" % (i, uuid.uuid4().hex[:6])})
                 for i in range(12)]
                + [("GET", "/users/" + target["userId"], None)] * 4
                + [("PATCH", "/users/" + patched["userId"], {"age": 40 + i}) for i in range(4)])
        self.assertEqual(len(jobs), N_PARALLEL)
        barrier = threading.Barrier(N_PARALLEL)
        results = [None] * N_PARALLEL

        def worker(i, method, path, body):
            client = self.gw.client(timeout=60)
            try:
                barrier.wait(timeout=30)
                results[i] = client.request(method, path, body=body)
            except BaseException as e:  # reported below
                results[i] = e
            finally:
                client.close()

        threads = [threading.Thread(target=worker, args=(i,) + job) for i, job in enumerate(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        self.assertFalse([t for t in threads if t.is_alive()], "requests still unanswered after 90 s")
        for (method, path, body), r in zip(jobs, results):
            self.assertNotIsInstance(r, BaseException, "%s %s: %r" % (method, path, r))
            self.check_http(r)
            self.assert_common_headers(r)

        created = [r for (m, _, _), r in zip(jobs, results) if m == "POST"]
        for (method, path, body), r in zip(jobs, results):
            if method == "POST":
                self.assertEqual(r.status, 201, r)
                self.assert_user(r.json, name=body["name"], email=body["email"], version=1)
                self.assertEqual(r.headers.get("Location"), "/users/" + r.json["userId"], r)
            elif method == "GET":
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, target)
            else:
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.headers.get("ETag"), '"%d"' % r.json["version"], r)
        ids = [r.json["userId"] for r in created]
        self.assertEqual(len(set(ids)), 12, "duplicate userIds: %r" % ids)
        versions = sorted(r.json["version"] for (m, _, _), r in zip(jobs, results) if m == "PATCH")
        self.assertEqual(versions, [2, 3, 4, 5], "each concurrent PATCH must bump the version once")
        final = self.http("GET", "/users/" + patched["userId"])
        self.assertEqual(final.json["version"], 5, final)
        for r in created:
            g = self.http("GET", "/users/" + r.json["userId"])
            self.assertEqual(g.status, 200, g)
            self.assertEqual(g.json, r.json)
        rids = [r.request_id for r in results]
        self.assertEqual(len(set(rids)), N_PARALLEL, "the request id must be per request: %r" % rids)

        # The access log names the bootstrap that served each request: both took part.
        by_rid = {l.get("requestId"): l for l in self.gw.access_log()}
        lines = [by_rid.get(rid) for rid in rids]
        self.assertNotIn(None, lines, "requests missing from the access log\n" + self.gw.output_tail())
        self.assertEqual([l.get("status") for l in lines], [r.status for r in results])
        self.assertEqual({l.get("outcome") for l in lines}, {"response"}, lines)
        self.assertEqual(len({l.get("instance") for l in lines}), 2,
                         "20 parallel requests should be spread over both bootstraps: %r"
                         % [l.get("instance") for l in lines])


class GatewayPaginationTest(GatewayCase):
    """GET /users through the gateway, on a table holding exactly 250 users."""

    TABLE = "UsersViaGatewayPaging"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.users = {}
            client = cls.gw.client()
            try:
                for i in range(N_PAGING_USERS):
                    body = {"name": "Gateway Page %03d" % i, "email": "gwpage%03d@example.com" % i}
                    if i % 3:
                        body["age"] = i % 151
                    r = client.request("POST", "/users", body)
                    if r.status != 201 or not isinstance(r.json, dict):
                        raise AssertionError("create %d through the gateway failed: %r" % (i, r))
                    cls.users[r.json["userId"]] = r.json
            finally:
                client.close()
            if len(cls.users) != N_PAGING_USERS:
                raise AssertionError("duplicate ids among the created users")
        except BaseException:
            cls.tearDownClass()
            raise

    def test_limit_100_returns_every_user_once(self):
        seen, pages, token = {}, [], None
        while True:
            q = {"limit": "100"}
            if token is not None:
                q["nextToken"] = token
            r = self.http("GET", "/users", query=q)
            self.assertEqual(r.status, 200, r)
            self.assert_common_headers(r)
            env = r.json
            self.assertIsInstance(env, dict, r)
            self.assertTrue({"users", "count"} <= set(env) <= {"users", "count", "nextToken"}, env.keys())
            self.assertEqual(env["count"], len(env["users"]), r)
            self.assertLessEqual(len(env["users"]), 100, r)
            for u in env["users"]:
                uid = u.get("userId")
                self.assertNotIn(uid, seen, "user %s returned twice" % uid)
                self.assertEqual(u, self.users.get(uid), "unknown or changed user %s" % uid)
                seen[uid] = u
            pages.append(len(env["users"]))
            self.assertLessEqual(len(pages), N_PAGING_USERS + 2, "nextToken never goes away")
            if "nextToken" not in env:
                break
            token = env["nextToken"]
            self.assertIsInstance(token, str)
            self.assertTrue(token, "empty nextToken")
        self.assertEqual(set(seen), set(self.users), "every user exactly once")
        self.assertEqual(sum(pages), N_PAGING_USERS)
        self.assertGreaterEqual(len(pages), math.ceil(N_PAGING_USERS / 100))

    def test_next_token_survives_the_query_string(self):
        r1 = self.http("GET", "/users", query={"limit": "1"})
        self.assertEqual(r1.status, 200, r1)
        tok = r1.json["nextToken"]
        r2 = self.http("GET", "/users", query={"limit": "1", "nextToken": tok})
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json["count"], 1, r2)
        self.assertNotEqual(r2.json["users"][0]["userId"], r1.json["users"][0]["userId"])
        r3 = self.http("GET", "/users", query={"limit": "1", "nextToken": tok})
        self.assertEqual(r3.json["users"], r2.json["users"])

    def test_bad_next_token_is_400(self):
        good = self.http("GET", "/users", query={"limit": "3"}).json["nextToken"]
        for tok in ("garbage!!", "%%%", "a", "eyJmb28iOiJiYXIifQ", "A" * 300, good[:-4] + "!!!!",
                    "a b+c/d="):
            with self.subTest(token=tok[:40]):
                r = self.http("GET", "/users", query={"nextToken": tok})
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertNotIn("Exception", r.body_text, "DynamoDB error leaked: %r" % p)

    def test_bad_limit_is_400(self):
        for lim in ("0", "101", "abc", "-1", "1.5"):
            with self.subTest(limit=lim):
                self.assert_problem(self.http("GET", "/users", query={"limit": lim}), 400, "VALIDATION_FAILED")
