"""GET /users: pages, nextToken, limit — on a table of its own holding exactly 250 users."""

import base64
import json
import math

from harness import CONFIG, BootstrapCase, api_event, strict_json

N_USERS = 250


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class PaginationTest(BootstrapCase):
    TABLE = "UsersPaging"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            existing = CONFIG.ddb.scan_all(cls.TABLE)
            if existing:
                raise AssertionError("table %s is not empty: %d items" % (cls.TABLE, len(existing)))
            cls.users = {}
            for i in range(N_USERS):
                body = {"name": "Page User %03d" % i, "email": "page%03d@example.com" % i}
                if i % 3:
                    body["age"] = i % 151
                kind, proxy = cls.runtime.invoke(api_event("POST", "/users", json.dumps(body)))
                if kind != "response" or proxy.get("statusCode") != 201:
                    raise AssertionError("create %d failed: %s %s" % (i, kind, proxy))
                user = strict_json(proxy["body"])
                cls.users[user["userId"]] = user
            if len(cls.users) != N_USERS:
                raise AssertionError("duplicate ids among created users")
        except BaseException:
            cls.tearDownClass()
            raise

    def walk(self, limit):
        """Follows nextToken from the first page to the last; returns (users by id, pages)."""
        seen, pages, token = {}, [], None
        while True:
            q = {}
            if limit is not None:
                q["limit"] = str(limit)
            if token is not None:
                q["nextToken"] = token
            r = self.api("GET", "/users", query=q or None)
            self.assertEqual(r.status, 200, r)
            self.assert_common_headers(r)
            env = r.json
            self.assertIsInstance(env, dict, r)
            keys = set(env)
            self.assertTrue({"users", "count"} <= keys <= {"users", "count", "nextToken"}, env.keys())
            self.assertIsInstance(env["users"], list)
            self.assertIsInstance(env["count"], int)
            self.assertEqual(env["count"], len(env["users"]), r)
            self.assertLessEqual(len(env["users"]), limit or 20, r)
            for u in env["users"]:
                uid = u.get("userId")
                self.assertNotIn(uid, seen, "user %s returned twice" % uid)
                self.assertIn(uid, self.users, "unknown user %s" % uid)
                self.assertEqual(u, self.users[uid])
                seen[uid] = u
            pages.append(len(env["users"]))
            self.assertLessEqual(len(pages), N_USERS + 2, "nextToken never goes away")
            if "nextToken" not in env:
                return seen, pages
            token = env["nextToken"]
            self.assertIsInstance(token, str)
            self.assertTrue(token, "empty nextToken")
            self.assertLessEqual(len(token), 256)

    def check_walk(self, limit):
        seen, pages = self.walk(limit)
        self.assertEqual(set(seen), set(self.users), "every user exactly once")
        self.assertEqual(sum(pages), N_USERS)
        per_page = limit or 20
        self.assertGreaterEqual(len(pages), math.ceil(N_USERS / per_page))
        return pages

    def test_limit_100(self):
        self.check_walk(100)

    def test_default_limit_20(self):
        self.check_walk(None)

    def test_limit_7(self):
        self.check_walk(7)

    def test_limit_1_and_next_token_round_trip(self):
        r1 = self.api("GET", "/users", query={"limit": "1"})
        self.assertEqual(r1.status, 200, r1)
        self.assertEqual(r1.json["count"], 1)
        tok = r1.json["nextToken"]
        r2 = self.api("GET", "/users", query={"limit": "1", "nextToken": tok})
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.json["count"], 1)
        self.assertNotEqual(r2.json["users"][0]["userId"], r1.json["users"][0]["userId"])
        # The same token gives the same page again (stateless).
        r3 = self.api("GET", "/users", query={"limit": "1", "nextToken": tok})
        self.assertEqual(r3.json["users"], r2.json["users"])

    def test_bad_next_token(self):
        good = self.api("GET", "/users", query={"limit": "3"}).json["nextToken"]
        bad = [
            "garbage!!",
            "%%%",
            "a",
            b64url(b"not json at all"),
            b64url(b'{"foo":"bar"}'),
            b64url(b"[1,2,3]"),
            b64url(b'{"userId":{"N":"5"}}'),
            b64url(b'{"userId":{"S":"x"},"extra":{"S":"y"}}'),
            b64url(b"\xff\xfe\x00\x01"),
            "A" * 300,
            good[:-2] + ("AA" if not good.endswith("AA") else "BB") + "!!",
        ]
        for tok in bad:
            with self.subTest(token=tok[:60]):
                r = self.api("GET", "/users", query={"nextToken": tok})
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertNotIn("Exception", json.dumps(p), "DynamoDB error leaked: %r" % p)

    def test_bad_limit(self):
        for lim in ("0", "101", "abc", "-1", "1.5", "10abc", "", " 5", "99999999999999999999"):
            with self.subTest(limit=lim):
                r = self.api("GET", "/users", query={"limit": lim})
                self.assert_problem(r, 400, "VALIDATION_FAILED")

    def test_limit_bounds_accepted(self):
        for lim in ("1", "100"):
            with self.subTest(limit=lim):
                r = self.api("GET", "/users", query={"limit": lim})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["count"], int(lim))
                self.assertIn("nextToken", r.json)
