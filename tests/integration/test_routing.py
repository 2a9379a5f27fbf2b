"""Routes, methods, path ids, preflight and the headers every response carries."""

import json
import uuid

from harness import BootstrapCase, api_event

REQUIRED_ALLOW_HEADERS = {
    "content-type",
    "authorization",
    "x-api-key",
    "x-amz-date",
    "x-amz-security-token",
    "if-match",
    "idempotency-key",
}


def token_set(value):
    return {x.strip().upper() for x in (value or "").split(",") if x.strip()}


class RoutingTest(BootstrapCase):
    def test_unknown_paths_are_404(self):
        for path in ("/", "/widgets", "/users/%s/orders" % uuid.uuid4(), "/Users", "/userss", "/users/a/b"):
            for method in ("GET", "POST", "OPTIONS"):
                with self.subTest(method=method, path=path):
                    r = self.api(method, path, {"name": "x"} if method == "POST" else None)
                    self.assert_problem(r, 404, "NOT_FOUND")

    def test_non_canonical_ids_are_404(self):
        u = self.create_user(name="Canonical")
        uid = u["userId"]
        bad = [
            uid.upper(),
            uid[:8].upper() + uid[8:],
            uid.replace("-", ""),
            "{%s}" % uid,
            uid + "0",
            uid[:-1],
            "%20" + uid,
            "urn:uuid:" + uid,
            "not-a-uuid",
            "12345",
        ]
        # An id whose first 8 characters are digits is its own partial upper case: canonical.
        for pid in [p for p in bad if p != uid]:
            for method, body in (("GET", None), ("PUT", {"name": "x"}), ("PATCH", {"name": "x"}), ("DELETE", None)):
                with self.subTest(id=pid, method=method):
                    r = self.api(method, "/users/" + pid, body)
                    self.assert_problem(r, 404, "NOT_FOUND")
        # The real user is untouched.
        g = self.api("GET", "/users/" + uid)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json, u)

    def test_unsupported_methods_are_405_with_allow(self):
        uid = str(uuid.uuid4())
        cases = [
            ("/users", ("HEAD", "PUT", "PATCH", "DELETE", "TRACE", "FOO"), {"GET", "POST", "OPTIONS"},
             {"PUT", "PATCH", "DELETE", "HEAD"}),
            ("/users/" + uid, ("HEAD", "POST", "TRACE", "CONNECT"), {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"},
             {"POST", "HEAD"}),
        ]
        for path, methods, must, must_not in cases:
            for m in methods:
                with self.subTest(method=m, path=path):
                    r = self.api(m, path)
                    self.assert_problem(r, 405, "METHOD_NOT_ALLOWED")
                    allow = token_set(r.headers.get("Allow"))
                    self.assertTrue(must <= allow, "Allow %r lacks %r" % (allow, must - allow))
                    self.assertFalse(allow & must_not, "Allow %r lists %r" % (allow, allow & must_not))

    def test_head_users_is_405(self):
        r = self.api("HEAD", "/users")
        self.assert_problem(r, 405, "METHOD_NOT_ALLOWED")
        self.assertIn("OPTIONS", token_set(r.headers.get("Allow")))

    def test_preflight(self):
        for path in ("/users", "/users/" + str(uuid.uuid4())):
            with self.subTest(path=path):
                r = self.api(
                    "OPTIONS",
                    path,
                    headers={
                        "Origin": "https://app.example.com",
                        "Access-Control-Request-Method": "PUT",
                        "Access-Control-Request-Headers": "content-type,if-match",
                    },
                )
                self.assertEqual(r.status, 204, r)
                self.assert_common_headers(r)
                self.assertIn(r.body_text, (None, ""), r)
                methods = token_set(r.headers.get("Access-Control-Allow-Methods"))
                expected = {"GET", "POST", "OPTIONS"} if path == "/users" else {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"}
                self.assertTrue(expected <= methods, "Allow-Methods %r lacks %r" % (methods, expected - methods))
                allowed = {h.lower() for h in token_set(r.headers.get("Access-Control-Allow-Headers"))}
                self.assertTrue(
                    REQUIRED_ALLOW_HEADERS <= allowed,
                    "Allow-Headers %r lacks %r" % (allowed, REQUIRED_ALLOW_HEADERS - allowed),
                )
                max_age = r.headers.get("Access-Control-Max-Age")
                self.assertIsNotNone(max_age, r)
                self.assertTrue(max_age.isdigit() and int(max_age) > 0, r)

    def test_every_response_carries_the_common_headers(self):
        u = self.create_user()
        uid = u["userId"]
        requests = [
            ("GET", "/users", None, None),
            ("GET", "/users/" + uid, None, None),
            ("GET", "/users/" + str(uuid.uuid4()), None, None),
            ("PUT", "/users/" + uid, {"age": 5}, None),
            ("PATCH", "/users/" + uid, {"age": 6}, {"If-Match": '"99"'}),
            ("POST", "/users", {"bad": 1}, None),
            ("POST", "/users", "{", None),
            ("POST", "/users", "x", {"Content-Type": "text/plain"}),
            ("GET", "/nowhere", None, None),
            ("HEAD", "/users", None, None),
            ("OPTIONS", "/users", None, None),
            ("GET", "/users", None, None),
            ("DELETE", "/users/" + uid, None, None),
        ]
        for method, path, body, headers in requests:
            with self.subTest(method=method, path=path, body=body):
                ev = api_event(method, path, json.dumps(body) if isinstance(body, dict) else body, headers)
                r = self.send(ev)
                self.assert_common_headers(r)
                if r.status >= 400:
                    self.assert_problem(r, r.status)
                if r.status == 204:
                    self.assertIn(r.body_text, (None, ""))
                elif r.status < 400:
                    self.assertIsInstance(r.json, dict, r)

    def test_request_ids_are_per_request(self):
        rids = set()
        for _ in range(3):
            r = self.api("GET", "/users/" + str(uuid.uuid4()))
            p = self.assert_problem(r, 404, "NOT_FOUND")
            rids.add(p["requestId"])
        self.assertEqual(len(rids), 3)
