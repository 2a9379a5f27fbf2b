"""Event forms: HTTP API payload 2.0, function URL, base64 bodies, captured real events, and
documents that are not API Gateway events at all."""

import glob
import json
import os
import uuid

from harness import CONFIG, BootstrapCase, http_event, rest_event


def testdata_dir():
    cand = os.environ.get("USERS_TESTDATA")
    if cand and os.path.isdir(os.path.join(cand, "events")):
        return os.path.join(cand, "events")
    return os.path.join(os.path.dirname(CONFIG.repo), "shared", "testdata", "events")


class EventFormsTest(BootstrapCase):
    def test_payload_v2_create_get_404(self):
        email = "v2.%s@example.com" % uuid.uuid4().hex[:8]
        r = self.http2("POST", "/users", {"name": "Vee Two", "email": email, "age": 2})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("multiValueHeaders", r.proxy, "payload 2.0 has no multiValueHeaders")
        self.assert_common_headers(r)
        self.assert_user(r.json, name="Vee Two", email=email, age=2, version=1)
        uid = r.json["userId"]
        self.assertEqual(r.headers.get("Location"), "/users/" + uid)
        self.assertEqual(r.headers.get("ETag"), '"1"')

        g = self.http2("GET", "/users/" + uid)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json, r.json)
        self.assertEqual(g.headers.get("ETag"), '"1"')

        missing = self.http2("GET", "/users/" + str(uuid.uuid4()))
        self.assert_problem(missing, 404, "NOT_FOUND")  # requestId: the v2 requestContext.requestId

        p = self.http2("PATCH", "/users/" + uid, {"age": None}, headers={"If-Match": '"1"'})
        self.assertEqual(p.status, 200, p)
        self.assertNotIn("age", p.json)

        lst = self.http2("GET", "/users", query={"limit": "5"})
        self.assertEqual(lst.status, 200, lst)
        self.assertLessEqual(lst.json["count"], 5)

        bad = self.http2("GET", "/users", query={"limit": "0"})
        self.assert_problem(bad, 400, "VALIDATION_FAILED")

        self.assert_problem(self.http2("HEAD", "/users"), 405, "METHOD_NOT_ALLOWED")
        opt = self.http2("OPTIONS", "/users/" + uid)
        self.assertEqual(opt.status, 204, opt)

        d = self.http2("DELETE", "/users/" + uid)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json, {"message": "User deleted", "userId": uid})

    def test_function_url_event_routes_on_raw_path(self):
        u = self.create_user(name="By URL")
        g = self.http2("GET", "/users/" + u["userId"], route=False)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json, u)
        c = self.http2("POST", "/users", {"name": "URL Made", "email": "url.%s@example.com" % uuid.uuid4().hex[:6]}, route=False)
        self.assertEqual(c.status, 201, c)
        nf = self.http2("GET", "/nothing/here", route=False)
        self.assert_problem(nf, 404, "NOT_FOUND")

    def test_base64_body_creates_user(self):
        email = "b64.%s@example.com" % uuid.uuid4().hex[:8]
        body = json.dumps({"name": "Base Sixty-Four", "email": email, "age": 64})
        r = self.rest("POST", "/users", body, base64_body=True)
        self.assertEqual(r.status, 201, r)
        self.assert_user(r.json, name="Base Sixty-Four", email=email, age=64, version=1)
        self.assertIsNotNone(CONFIG.ddb.get_item(self.TABLE, r.json["userId"]))
        r2 = self.http2("PUT", "/users/" + r.json["userId"], {"name": "B64 v2"}, base64_body=True)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json["name"], "B64 v2")

    def test_base64_body_that_does_not_decode(self):
        for body in ("@@@@", "eyJuYW1lIjoi", "e30=e30="):
            with self.subTest(body=body):
                ev = rest_event("POST", "/users", "{}")
                ev["body"] = body
                ev["isBase64Encoded"] = True
                r = self.send(ev)
                self.assert_problem(r, 400)

    def test_null_and_missing_maps(self):
        u = self.create_user(name="Nulls")
        ev = rest_event("GET", "/users/" + u["userId"])
        ev["headers"] = None
        ev["multiValueHeaders"] = None
        ev["queryStringParameters"] = None
        ev["multiValueQueryStringParameters"] = None
        r = self.send(ev)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, u)
        ev = rest_event("GET", "/users")
        for k in ("headers", "multiValueHeaders", "queryStringParameters",
                  "multiValueQueryStringParameters", "stageVariables", "body", "isBase64Encoded"):
            ev.pop(k)
        r = self.send(ev)
        self.assertEqual(r.status, 200, r)
        ev = rest_event("POST", "/users", '{"name":"N","email":"n@example.com"}')
        ev["headers"] = None
        ev["multiValueHeaders"] = None
        r = self.send(ev)
        self.assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        ev = http_event("GET", "/users/" + u["userId"])
        for k in ("headers", "queryStringParameters", "pathParameters", "stageVariables",
                  "cookies", "body"):
            ev[k] = None
        r = self.send(ev)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, u)

    def test_repeated_query_and_header_values_never_5xx(self):
        r = self.rest("GET", "/users", query={"limit": ["5", "6"]})
        self.assertLess(r.status, 500, r)
        self.assertIn(r.status, (200, 400), r)
        u = self.create_user(name="Repeated")
        r = self.rest("PUT", "/users/" + u["userId"], {"name": "R2"},
                      headers={"If-Match": ['"1"', '"2"']})
        self.assertIn(r.status, (200, 400, 412), r)
        r = self.rest("POST", "/users", {"name": "R", "email": "r@example.com"},
                      headers={"Content-Type": ["application/json", "text/plain"]})
        self.assertIn(r.status, (201, 400, 415), r)

    def test_malformed_events_get_an_invocation_error(self):
        with open(os.path.join(testdata_dir(), "go-dynamodb-event.json"), "rb") as f:
            stream = f.read()
        console = {"key1": "value1", "key2": "value2", "key3": "value3"}
        for ev in ({}, [], b"null", b"42", b'"text"', b"this is not json", b"{\"httpMethod\":", b"",
                   stream, console):
            with self.subTest(event=(ev if isinstance(ev, bytes) else json.dumps(ev).encode())[:60]):
                kind, doc = self.runtime.invoke(ev)
                self.assertEqual(kind, "error", "expected /invocation/{id}/error, got %s %r" % (kind, doc))
                self.assertIsInstance(doc, dict, doc)
                self.assertIsInstance(doc.get("errorType"), str, doc)
                self.assertTrue(doc["errorType"], doc)
                self.assertIsInstance(doc.get("errorMessage"), str, doc)
                hdr = self.runtime.last.headers.get("lambda-runtime-function-error-type")
                self.assertTrue(hdr, "no Lambda-Runtime-Function-Error-Type header")
                # ... and the next invocation is served as usual.
                r = self.rest("GET", "/users", query={"limit": "1"})
                self.assertEqual(r.status, 200, r)

    def test_ill_typed_events_are_invocation_errors(self):
        """A member API Gateway sends with one JSON type, present with another, makes the
        document not an API Gateway event: InvalidEvent on /invocation/{id}/error, and the next
        event is served."""
        for ev in ({"httpMethod": 5, "path": [], "headers": "x"},
                   {"httpMethod": 5, "path": ["x"]},
                   {"httpMethod": None, "path": "/users"},
                   {"httpMethod": "GET", "path": None, "headers": "x"},
                   {"httpMethod": "GET", "path": "/users", "requestContext": []},
                   {"httpMethod": "GET", "path": "/users", "multiValueHeaders": ["Accept"]},
                   {"httpMethod": "GET", "path": "/users", "queryStringParameters": "limit=1"},
                   {"httpMethod": "GET", "path": "/users", "resource": 1},
                   {"httpMethod": "POST", "path": "/users", "body": {"name": "not a string"}},
                   {"httpMethod": "POST", "path": "/users", "body": "e30=", "isBase64Encoded": "true"},
                   {"version": "2.0", "requestContext": {"http": {"method": None}}, "rawPath": 7},
                   {"version": "2.0", "requestContext": {"http": {"method": ["GET"]}}, "rawPath": "/users"},
                   {"version": "2.0", "requestContext": {"http": "GET"}, "rawPath": "/users"},
                   {"version": "2.0", "requestContext": {"http": {"method": "GET"}}, "rawPath": {}}):
            with self.subTest(event=ev):
                kind, doc = self.runtime.invoke(ev)
                self.assertEqual(kind, "error", "expected /invocation/{id}/error, got %s %r" % (kind, doc))
                self.assertIsInstance(doc, dict, doc)
                self.assertEqual(doc.get("errorType"), "InvalidEvent", doc)
                self.assertIsInstance(doc.get("errorMessage"), str, doc)
                hdr = self.runtime.last.headers.get("lambda-runtime-function-error-type")
                self.assertEqual(hdr, "InvalidEvent")
                r = self.rest("GET", "/users", query={"limit": "1"})
                self.assertEqual(r.status, 200, r)

    def test_missing_method_or_path_is_answered(self):
        """Missing is not the wrong type: a missing path is 404, a missing method an unknown
        one (405 on a known path)."""
        no_method = {"version": "2.0", "rawPath": "/users",
                     "requestContext": {"requestId": "no-method", "http": {}}}
        for ev, status, code in (
                ({"httpMethod": "GET", "requestContext": {"requestId": "no-path"}}, 404, "NOT_FOUND"),
                ({"version": "2.0", "requestContext": {"requestId": "no-path-v2"}}, 404, "NOT_FOUND"),
                (no_method, 405, "METHOD_NOT_ALLOWED")):
            with self.subTest(event=ev):
                kind, doc = self.runtime.invoke(ev)
                self.assertEqual(kind, "response", doc)
                self.assertEqual(doc.get("statusCode"), status, doc)
                problem = json.loads(doc.get("body") or "null")
                self.assertIsInstance(problem, dict, doc)
                self.assertEqual(problem.get("code"), code, doc)
                self.assertEqual(problem.get("requestId"), ev["requestContext"]["requestId"], doc)

    def test_captured_real_events_are_answered(self):
        """Every real REST / HTTP API event in shared/testdata hits a path this API does not
        have: each must get a proxy response (a 404 problem document), never an invocation
        error or a crash."""
        files = sorted(glob.glob(os.path.join(testdata_dir(), "*.json")))
        self.assertTrue(files, "no events under %s" % testdata_dir())
        used = 0
        for path in files:
            with open(path, "rb") as f:
                ev = json.loads(f.read())
            if not isinstance(ev, dict):
                continue
            is_v1 = "httpMethod" in ev
            is_v2 = ev.get("version") == "2.0" and isinstance((ev.get("requestContext") or {}).get("http"), dict)
            if not (is_v1 or is_v2):
                continue
            used += 1
            with self.subTest(file=os.path.basename(path)):
                r = self.send(ev)
                self.assertEqual(r.status, 404, r)
                self.assert_common_headers(r)
                p = r.json
                self.assertIsInstance(p, dict, r)
                self.assertEqual(p.get("type"), "about:blank", r)
                self.assertEqual(p.get("status"), 404, r)
                self.assertEqual(p.get("code"), "NOT_FOUND", r)
                rid = (ev.get("requestContext") or {}).get("requestId")
                if rid:
                    self.assertEqual(p.get("requestId"), rid, r)
                else:
                    self.assertEqual(p.get("requestId"), r.lambda_request_id, r)
        self.assertGreaterEqual(used, 30)
