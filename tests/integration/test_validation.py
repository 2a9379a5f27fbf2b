"""Bodies that are wrong: field rules, unknown fields, media type, size, JSON syntax, and the
order in which the checks answer."""

import uuid

from harness import CONFIG, BootstrapCase, api_event

MAX_BODY = 16384


def sized_body(total, name_len=None, valid=True):
    """A JSON body of exactly `total` bytes. valid=True: a correct user, padded with
    whitespace inside the object; valid=False: the name is as long as it takes (too long)."""
    email = "big.%s@example.com" % uuid.uuid4().hex[:8]
    if valid:
        core = '"name":"Big Body","email":"%s"}' % email
        return ("{" + " " * (total - 1 - len(core)) + core).encode()
    head, tail = '{"name":"', '","email":"%s"}' % email
    return (head + "a" * (total - len(head) - len(tail)) + tail).encode()


class ValidationTest(BootstrapCase):
    def count_items(self):
        return len(CONFIG.ddb.scan_all(self.TABLE))

    def fields(self, problem):
        return [e["field"] for e in problem.get("errors", [])]

    def test_several_invalid_fields_reported_at_once(self):
        before = self.count_items()
        r = self.api("POST", "/users", {"name": "   ", "email": "not-an-email", "age": 200})
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(self.fields(p)), ["age", "email", "name"], p)
        r2 = self.api("POST", "/users", {})
        p2 = self.assert_problem(r2, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(self.fields(p2)), ["email", "name"], p2)
        r3 = self.api("POST", "/users", {"name": "Only Name"})
        p3 = self.assert_problem(r3, 400, "VALIDATION_FAILED")
        self.assertEqual(self.fields(p3), ["email"], p3)
        self.assertEqual(self.count_items(), before, "a rejected create wrote to the table")

    def test_field_rules_on_create(self):
        ok_email = "rules@example.com"
        cases = [
            ({"name": ""}, "name"),
            ({"name": " \t\r\n "}, "name"),
            ({"name": "a" * 101}, "name"),
            ({"name": "bad\u0001name"}, "name"),
            ({"name": "bad\u007fname"}, "name"),
            ({"name": "nul\u0000name"}, "name"),
            ({"name": 42}, "name"),
            ({"name": None}, "name"),
            ({"name": ["Ada"]}, "name"),
            ({"email": ""}, "email"),
            ({"email": "no-at-sign"}, "email"),
            ({"email": "a@@example.com"}, "email"),
            ({"email": "a@b@example.com"}, "email"),
            ({"email": "a@localhost"}, "email"),
            ({"email": "a..b@example.com"}, "email"),
            ({"email": ".a@example.com"}, "email"),
            ({"email": "a.@example.com"}, "email"),
            ({"email": "a b@example.com"}, "email"),
            ({"email": "a(b)@example.com"}, "email"),
            ({"email": "a@-example.com"}, "email"),
            ({"email": "a@example-.com"}, "email"),
            ({"email": "a@exa_mple.com"}, "email"),
            ({"email": "a@example.123"}, "email"),
            ({"email": "x" * 65 + "@example.com"}, "email"),
            ({"email": "a@" + "b" * 64 + ".com"}, "email"),
            ({"email": "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 10 + ".com"}, "email"),  # > 254
            ({"email": 5}, "email"),
            ({"age": -1}, "age"),
            ({"age": 151}, "age"),
            ({"age": 36.5}, "age"),
            ({"age": "36"}, "age"),
            ({"age": True}, "age"),
            ({"age": None}, "age"),  # null is for updates only
        ]
        for patch, field in cases:
            body = {"name": "Rule Check", "email": ok_email}
            body.update(patch)
            with self.subTest(body=body):
                r = self.api("POST", "/users", body)
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertEqual(self.fields(p), [field], p)

    def test_field_boundaries_accepted(self):
        cases = [
            {"name": "a" * 100},
            {"name": "\U0001f600" * 100},  # 100 code points, 400 bytes
            {"name": "  padded  ", "age": 150},
            {"age": 0},
            {"email": "x" * 64 + "@example.com"},
            {"email": "a@" + "b" * 63 + ".com"},
            {"email": "o'brien+tag!#$%&*=?^_`{|}~-@sub-domain.example.co"},
        ]
        for patch in cases:
            body = {"name": "Boundary", "email": "edge.%s@example.com" % uuid.uuid4().hex[:6]}
            body.update(patch)
            with self.subTest(body=body):
                r = self.api("POST", "/users", body)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["name"], body["name"].strip(" "))
                self.assertEqual(r.json["email"], body["email"])

    def test_unknown_and_server_set_fields_rejected(self):
        for extra in ("nickname", "Name", "userId", "createdAt", "updatedAt", "version"):
            body = {"name": "Strict", "email": "strict@example.com", extra: "x"}
            with self.subTest(field=extra):
                r = self.api("POST", "/users", body)
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertIn(extra, self.fields(p), p)

    def test_update_validation(self):
        u = self.create_user(name="Updatable", age=33)
        uid = u["userId"]
        before = CONFIG.ddb.get_item(self.TABLE, uid)
        cases = [
            ({}, None),
            ({"nickname": "x"}, "nickname"),
            ({"name": ""}, "name"),
            ({"email": "nope"}, "email"),
            ({"age": "33"}, "age"),
            ({"age": 1.5}, "age"),
            ({"version": 9}, "version"),
            ({"userId": str(uuid.uuid4())}, "userId"),
            ({"name": "Fine", "createdAt": "2020-01-01T00:00:00.000Z"}, "createdAt"),
        ]
        for method in ("PUT", "PATCH"):
            for body, field in cases:
                with self.subTest(method=method, body=body):
                    r = self.api(method, "/users/" + uid, body)
                    p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                    if field:
                        self.assertIn(field, self.fields(p), p)
        self.assertEqual(CONFIG.ddb.get_item(self.TABLE, uid), before, "a rejected update changed the item")

    def test_unsupported_media_type(self):
        good = {"name": "Media", "email": "media@example.com"}
        uid = self.create_user()["userId"]
        for ct in ("text/plain", "application/xml", "application/x-www-form-urlencoded", "", None):
            with self.subTest(content_type=ct):
                r = self.api("POST", "/users", good, headers={"Content-Type": ct})
                self.assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
                r = self.api("PUT", "/users/" + uid, {"name": "x"}, headers={"Content-Type": ct})
                self.assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_json_media_type_variants_accepted(self):
        for hdr in (
            {"Content-Type": "application/json; charset=utf-8"},
            {"Content-Type": "Application/JSON"},
            {"content-type": "application/json"},
            {"CONTENT-TYPE": "application/json;charset=UTF-8"},
        ):
            with self.subTest(headers=hdr):
                body = {"name": "Typed", "email": "typed.%s@example.com" % uuid.uuid4().hex[:6]}
                r = self.api("POST", "/users", body, headers=hdr)
                self.assertEqual(r.status, 201, r)

    def test_body_size_limit(self):
        for b64 in (False, True):
            with self.subTest(base64=b64):
                exact_ok = sized_body(MAX_BODY, valid=True)
                self.assertEqual(len(exact_ok), MAX_BODY)
                r = self.api("POST", "/users", exact_ok.decode(), base64_body=b64)
                self.assertEqual(r.status, 201, r)
                self.assertEqual(r.json["name"], "Big Body")

                exact_bad = sized_body(MAX_BODY, valid=False)
                self.assertEqual(len(exact_bad), MAX_BODY)
                r = self.api("POST", "/users", exact_bad.decode(), base64_body=b64)
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertEqual(self.fields(p), ["name"], p)

                over = sized_body(MAX_BODY + 1, valid=True)
                self.assertEqual(len(over), MAX_BODY + 1)
                r = self.api("POST", "/users", over.decode(), base64_body=b64)
                self.assert_problem(r, 413, "PAYLOAD_TOO_LARGE")

                uid = self.create_user()["userId"]
                over_put = b'{"name":"x"' + b" " * (MAX_BODY + 1 - len(b'{"name":"x"}')) + b"}"
                self.assertEqual(len(over_put), MAX_BODY + 1)
                r = self.api("PUT", "/users/" + uid, over_put.decode(), base64_body=b64)
                self.assert_problem(r, 413, "PAYLOAD_TOO_LARGE")

    def test_invalid_json(self):
        cases = [
            b'{"name": "a",',
            b"{name: 'a'}",
            b"[1, 2]",
            b'"just a string"',
            b"42",
            b"null",
            b'{"name":"A","name":"B","email":"dup@example.com"}',
            b'{"name":"\xff\xfe","email":"utf8@example.com"}',  # not UTF-8
            b'{"name":"\xc3\x28","email":"utf8@example.com"}',  # invalid continuation byte
            b'{"name":"a\x00b","email":"nul@example.com"}',  # raw NUL inside a string
            b'{"name":"A","email":"a@example.com"} trailing',
        ]
        for raw in cases:
            with self.subTest(body=raw):
                # Raw bytes travel base64-encoded, as API Gateway sends binary bodies.
                r = self.api("POST", "/users", raw, base64_body=True)
                self.assert_problem(r, 400, "INVALID_JSON")
        r = self.api("POST", "/users", '{"name": "a",')  # plain-text body too
        self.assert_problem(r, 400, "INVALID_JSON")

    def test_missing_or_empty_body(self):
        for body in (None, ""):
            with self.subTest(body=body):
                ev = api_event("POST", "/users", body, headers={"Content-Type": "application/json"})
                r = self.send(ev)
                p = self.assert_problem(r, 400)
                self.assertIn(p["code"], ("INVALID_JSON", "VALIDATION_FAILED"), p)

    def test_bad_base64_body(self):
        ev = api_event("POST", "/users", None, headers={"Content-Type": "application/json"})
        ev["body"] = "!!!not base64!!!"
        ev["isBase64Encoded"] = True
        r = self.send(ev)
        self.assert_problem(r, 400)

    def test_odd_values_never_5xx(self):
        bodies = [
            '{"name":"Big","email":"big@example.com","age":1e400}',
            '{"name":"Big","email":"big@example.com","age":123456789012345678901234567890}',
            '{"name":"Big","email":"big@example.com","age":-0.0}',
            '{"name":"Big","email":"big@example.com","age":{"n":1}}',
            '{"name":"Deep","email":"deep@example.com","x":' + "[" * 5000 + "]" * 5000 + "}",
            "{" * 8000,
            '{"name":"' + "\\ud800" + '","email":"surrogate@example.com"}',
        ]
        for body in bodies:
            with self.subTest(body=body[:80]):
                r = self.api("POST", "/users", body)
                self.assert_problem(r, 400)

    def test_check_order(self):
        # media type (415) before size (413)
        over = sized_body(MAX_BODY + 1, valid=False).decode()
        r = self.api("POST", "/users", over, headers={"Content-Type": "text/plain"})
        self.assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        # size (413) before JSON (400)
        r = self.api("POST", "/users", "{" * (MAX_BODY + 1))
        self.assert_problem(r, 413, "PAYLOAD_TOO_LARGE")
        # JSON (400 INVALID_JSON) before fields
        r = self.api("POST", "/users", '{"name": "", "email": 1,')
        self.assert_problem(r, 400, "INVALID_JSON")
        # path id (404) before media type (415)
        r = self.api("PUT", "/users/not-a-uuid", "xx", headers={"Content-Type": "text/plain"})
        self.assert_problem(r, 404, "NOT_FOUND")
        # method (405) before path id (404)
        r = self.api("POST", "/users/not-a-uuid", {"name": "x"})
        self.assert_problem(r, 405, "METHOD_NOT_ALLOWED")
        # fields (400) before DynamoDB (404)
        r = self.api("PUT", "/users/" + str(uuid.uuid4()), {"name": ""})
        self.assert_problem(r, 400, "VALIDATION_FAILED")


class HugeBodyTest(BootstrapCase):
    """A class of its own: if the bootstrap dies on a huge event, only this class fails."""

    def test_ten_megabyte_body(self):
        big = '{"name":"' + "a" * (10 * 1024 * 1024) + '","email":"a@example.com"}'
        r = self.api("POST", "/users", big, timeout=30)
        self.assert_problem(r, 413, "PAYLOAD_TOO_LARGE")
        after = self.api("GET", "/users", query={"limit": "1"})
        self.assertEqual(after.status, 200, after)
