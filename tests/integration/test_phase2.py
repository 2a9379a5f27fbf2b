"""Phase 2 of the contract: unique emails (the claims table), GET /users?email=, the
Idempotency-Key on POST, and the back-fill of a phase-1 table (scripts/backfill-emails.sh).

Checked through the API and in both tables directly: the users table (`TABLE`) and the
claims table (`TABLE-claims`, items `email#<lower>` → userId and `idem#<key>` records).
The races run through users-gateway (run.py --gateway) in front of 4 bootstraps.
"""

import calendar
import hashlib
import json
import os
import subprocess
import threading
import time
import uuid

from harness import ACCESS_KEY_ID, CONFIG, REGION, UUID4_RE, BootstrapCase
from test_via_gateway import GatewayCase

IDEMPOTENCY_TTL_S = 86400
BACKFILL_SUMMARY_KEYS = {"scanned", "claimed", "alreadyClaimed", "changed", "conflicts", "skipped",
                         "complete"}


# ---- the tables, read directly ---------------------------------------------------------------


def claims_table(table):
    return table + "-claims"


def canon(items):
    """A table's items in a comparable form (order-free)."""
    return sorted(json.dumps(i, sort_keys=True) for i in items)


def claim_item(table, key):
    """The claims table's item with pk `key` ("email#..." or "idem#..."), or None."""
    body = CONFIG.ddb.ok("GetItem", {"TableName": claims_table(table), "Key": {"pk": {"S": key}},
                                     "ConsistentRead": True})
    return body.get("Item")


def claim_owner(table, email):
    """The userId the claim of email (any case) names, or None when it is not claimed."""
    item = claim_item(table, "email#" + email.lower())
    return item["userId"]["S"] if item else None


def email_claims(table):
    """{lower address: owner} of every email claim in the claims table."""
    return {i["pk"]["S"][len("email#"):]: i["userId"]["S"]
            for i in CONFIG.ddb.scan_all(claims_table(table)) if i["pk"]["S"].startswith("email#")}


def users_with(table, email):
    """The user items whose emailLower is email's, lower-cased."""
    return [i for i in CONFIG.ddb.scan_all(table) if i.get("emailLower", {}).get("S") == email.lower()]


def iso_ms(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + ".%03dZ" % int(epoch_s * 1000 % 1000)


def phase1_item(name, email, lower=None, version=1):
    """A user item as phase 1 wrote it (no claim anywhere); lower overrides emailLower."""
    now = iso_ms(time.time())
    return {"userId": {"S": str(uuid.uuid4())}, "name": {"S": name}, "email": {"S": email},
            "emailLower": {"S": email.lower() if lower is None else lower}, "createdAt": {"S": now},
            "updatedAt": {"S": now}, "version": {"N": str(version)}}


def put_items(table, items):
    for item in items:
        CONFIG.ddb.ok("PutItem", {"TableName": table, "Item": item})


def request_hash(name, email, age=None):
    """What the binary hashes for an Idempotency-Key (decisions.md): name NUL email NUL age."""
    text = "%s\0%s\0%s" % (name, email, "" if age is None else age)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def case_variants(address, n):
    """n distinct spellings of address that differ only in case (n <= 2**letters)."""
    letters = [i for i, c in enumerate(address) if c.isalpha()]
    out = []
    for k in range(n):
        chars = list(address)
        for bit, pos in enumerate(letters):
            if k >> bit & 1:
                chars[pos] = chars[pos].upper()
        out.append("".join(chars))
    assert len(set(out)) == n, out
    return out


class TablesMixin:
    """Assertions on the two tables of a class's TABLE."""

    def stored(self, uid):
        return CONFIG.ddb.get_item(self.TABLE, uid)

    def snapshot(self):
        return canon(CONFIG.ddb.scan_all(self.TABLE)), canon(CONFIG.ddb.scan_all(claims_table(self.TABLE)))

    def assert_claims_consistent(self):
        """Every user's emailLower is claimed by that user; every email claim names a user that
        holds that address (no orphan claim)."""
        users = {i["userId"]["S"]: i for i in CONFIG.ddb.scan_all(self.TABLE)}
        claims = email_claims(self.TABLE)
        for uid, item in users.items():
            lower = item["emailLower"]["S"]
            self.assertEqual(item["email"]["S"].lower(), lower, item)
            self.assertEqual(claims.get(lower), uid, "user %s holds %s without its claim" % (uid, lower))
        for lower, owner in claims.items():
            self.assertIn(owner, users, "orphan claim %s → %s (no such user)" % (lower, owner))
            self.assertEqual(users[owner]["emailLower"]["S"], lower,
                             "orphan claim %s → %s (the user has moved)" % (lower, owner))


# ---- 1. unique emails ------------------------------------------------------------------------


class UniqueEmailTest(TablesMixin, BootstrapCase):
    TABLE = "UsersPhase2Unique"

    def address(self, tag):
        return "%s.%s@example.com" % (tag, uuid.uuid4().hex[:10])

    def assert_email_taken(self, r):
        p = self.assert_problem(r, 409, "EMAIL_TAKEN")
        self.assertEqual([e["field"] for e in p.get("errors", [])], ["email"], p)
        self.assertNotIn("Location", r.headers, r)
        self.assertNotIn("ETag", r.headers, r)
        return p

    def test_create_with_taken_address_in_another_case_is_409(self):
        email = self.address("ada")
        a = self.create_user(name="Ada", email=email)
        before = self.snapshot()
        for other in (email.upper(), email.title(), " %s\t" % email.upper(), email):
            with self.subTest(email=other):
                r = self.api("POST", "/users", {"name": "Impostor", "email": other, "age": 30})
                self.assert_email_taken(r)
                self.assertEqual(self.snapshot(), before, "a 409 create wrote something")
        self.assertEqual([i["userId"]["S"] for i in users_with(self.TABLE, email)], [a["userId"]])
        self.assertEqual(claim_owner(self.TABLE, email), a["userId"])
        self.assert_claims_consistent()

    def test_create_claims_the_lower_cased_address(self):
        email = "Mixed.%s@Example.COM" % uuid.uuid4().hex[:10]
        u = self.create_user(name="Mixed", email=email)
        self.assertEqual(u["email"], email, "stored as given")
        self.assertEqual(claim_item(self.TABLE, "email#" + email.lower()),
                         {"pk": {"S": "email#" + email.lower()}, "userId": {"S": u["userId"]}})
        self.assertIsNone(claim_item(self.TABLE, "email#" + email), "the claim is keyed by the lower case")

    def test_update_to_taken_address_is_409_and_changes_nothing(self):
        a = self.create_user(name="Holder", email=self.address("holder"))
        b = self.create_user(name="Mover", email=self.address("mover"), age=20)
        uid = b["userId"]
        before = self.snapshot()
        for method, body, headers in (
                ("PATCH", {"email": a["email"].upper()}, None),
                ("PUT", {"email": a["email"], "name": "Renamed", "age": 21}, None),
                ("PATCH", {"email": a["email"].swapcase()}, {"If-Match": '"1"'})):
            with self.subTest(method=method, body=body, headers=headers):
                r = self.api(method, "/users/" + uid, body, headers=headers)
                self.assert_email_taken(r)
                self.assertEqual(self.snapshot(), before, "a 409 update wrote something")
        g = self.api("GET", "/users/" + uid)
        self.assertEqual(g.json, b, "the user changed after 409s")
        self.assertEqual(g.headers.get("ETag"), '"1"', g)
        self.assertEqual(claim_owner(self.TABLE, a["email"]), a["userId"])
        self.assertEqual(claim_owner(self.TABLE, b["email"]), uid)

    def test_changing_only_the_case_keeps_the_claim(self):
        email = self.address("casey")
        u = self.create_user(name="Casey", email=email)
        uid = u["userId"]
        claims_before = email_claims(self.TABLE)
        new = email.upper()
        r = self.api("PATCH", "/users/" + uid, {"email": new})
        self.assertEqual(r.status, 200, r)
        self.assert_user(r.json, name="Casey", email=new, version=2)
        self.assertEqual(r.headers.get("ETag"), '"2"', r)
        item = self.stored(uid)
        self.assertEqual(item["email"], {"S": new})
        self.assertEqual(item["emailLower"], {"S": email.lower()})
        self.assertEqual(claim_owner(self.TABLE, email), uid)
        self.assertEqual(email_claims(self.TABLE), claims_before, "a change of case moved a claim")
        # The same value again, and with If-Match: 200, version bumped, claim untouched.
        same = self.api("PUT", "/users/" + uid, {"email": new})
        self.assertEqual(same.status, 200, same)
        self.assert_user(same.json, email=new, version=3)
        back = self.api("PATCH", "/users/" + uid, {"email": email, "name": "Casey 2"}, headers={"If-Match": '"3"'})
        self.assertEqual(back.status, 200, back)
        self.assert_user(back.json, name="Casey 2", email=email, version=4)
        self.assertEqual(email_claims(self.TABLE), claims_before)
        self.assertEqual(self.api("GET", "/users/" + uid).json, back.json)

    def test_address_change_frees_the_old_and_claims_the_new(self):
        old, new = self.address("old"), self.address("new")
        a = self.create_user(name="Mover", email=old, age=40)
        uid = a["userId"]
        r = self.api("PATCH", "/users/" + uid, {"email": new.upper(), "name": "Moved"})
        self.assertEqual(r.status, 200, r)
        self.assert_user(r.json, name="Moved", email=new.upper(), age=40, version=2)
        self.assertEqual(r.json["userId"], uid)
        self.assertEqual(r.json["createdAt"], a["createdAt"])
        self.assertEqual(r.headers.get("ETag"), '"2"', r)
        self.assertEqual(self.api("GET", "/users/" + uid).json, r.json, "the 200 body is what is stored")
        item = self.stored(uid)
        self.assertEqual(item["emailLower"], {"S": new.lower()})
        self.assertEqual(item["version"], {"N": "2"})
        self.assertIsNone(claim_item(self.TABLE, "email#" + old.lower()), "the old address is still claimed")
        self.assertEqual(claim_owner(self.TABLE, new), uid)
        # Another user can now take the old address; nobody can take the new one.
        b = self.api("POST", "/users", {"name": "Taker", "email": old.upper()})
        self.assertEqual(b.status, 201, b)
        self.assertEqual(claim_owner(self.TABLE, old), b.json["userId"])
        self.assert_email_taken(self.api("POST", "/users", {"name": "Late", "email": new}))
        # With If-Match: a stale version is 412 before anything is claimed.
        stale = self.api("PATCH", "/users/" + uid, {"email": self.address("stale")}, headers={"If-Match": '"1"'})
        self.assert_problem(stale, 412, "PRECONDITION_FAILED")
        self.assertEqual(claim_owner(self.TABLE, new), uid)
        third = self.address("third")
        ok = self.api("PATCH", "/users/" + uid, {"email": third}, headers={"If-Match": '"2"'})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.json["version"], 3)
        self.assertIsNone(claim_owner(self.TABLE, new))
        self.assertEqual(claim_owner(self.TABLE, third), uid)
        self.assert_claims_consistent()

    def test_delete_releases_the_address(self):
        email = self.address("leaver")
        u = self.create_user(name="Leaver", email=email)
        uid = u["userId"]
        self.assertEqual(claim_owner(self.TABLE, email), uid)
        d = self.api("DELETE", "/users/" + uid)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json, {"message": "User deleted", "userId": uid})
        self.assertIsNone(self.stored(uid))
        self.assertIsNone(claim_item(self.TABLE, "email#" + email.lower()), "the deleted user's claim is left")
        n = self.api("POST", "/users", {"name": "Newcomer", "email": email.upper()})
        self.assertEqual(n.status, 201, n)
        self.assertNotEqual(n.json["userId"], uid)
        self.assertEqual(claim_owner(self.TABLE, email), n.json["userId"])
        # A stale If-Match on delete neither deletes nor releases.
        self.assert_problem(self.api("DELETE", "/users/" + n.json["userId"], headers={"If-Match": '"2"'}),
                            412, "PRECONDITION_FAILED")
        self.assertEqual(claim_owner(self.TABLE, email), n.json["userId"])
        self.assert_claims_consistent()


# ---- 2. lookup by email ----------------------------------------------------------------------


class LookupTest(TablesMixin, BootstrapCase):
    TABLE = "UsersPhase2Lookup"

    def lookup(self, email, expect_ids=None, **query):
        """GET /users?email=...; with expect_ids, polls briefly (the index is eventually
        consistent on AWS) until the users found are those."""
        deadline = time.monotonic() + 2.0
        while True:
            r = self.api("GET", "/users", query=dict(query, email=email))
            if expect_ids is None or r.status != 200 or time.monotonic() > deadline:
                return r
            if sorted(u["userId"] for u in r.json["users"]) == sorted(expect_ids):
                return r
            time.sleep(0.1)

    def assert_envelope(self, r, users):
        self.assertEqual(r.status, 200, r)
        self.assert_common_headers(r)
        self.assertEqual(set(r.json), {"users", "count"}, "a lookup has one page: %r" % r.json)
        self.assertEqual(r.json["count"], len(users), r)
        self.assertEqual(sorted(r.json["users"], key=lambda u: u["userId"]),
                         sorted(users, key=lambda u: u["userId"]))

    def test_lookup_is_case_insensitive(self):
        u = self.create_user(name="Ada Lovelace", email="ada@example.com", age=36)
        for q in ("ADA@Example.com", "ada@example.com", "  Ada@EXAMPLE.COM\t"):
            with self.subTest(email=q):
                r = self.lookup(q, [u["userId"]])
                self.assert_envelope(r, [u])
                self.assert_user(r.json["users"][0], name="Ada Lovelace", email="ada@example.com", age=36,
                                 version=1)

    def test_lookup_follows_changes(self):
        u = self.create_user(name="Follow", email="follow.%s@example.com" % uuid.uuid4().hex[:8])
        new = "followed.%s@example.org" % uuid.uuid4().hex[:8]
        p = self.api("PATCH", "/users/" + u["userId"], {"email": new})
        self.assertEqual(p.status, 200, p)
        self.assert_envelope(self.lookup(new.upper(), [u["userId"]]), [p.json])
        self.assert_envelope(self.lookup(u["email"], []), [])
        self.assertEqual(self.api("DELETE", "/users/" + u["userId"]).status, 200)
        self.assert_envelope(self.lookup(new, []), [])

    def test_unknown_address_is_an_empty_page(self):
        self.create_user(name="Somebody")
        r = self.lookup("nobody.%s@example.com" % uuid.uuid4().hex[:8])
        self.assert_envelope(r, [])
        self.assertEqual(r.json, {"users": [], "count": 0})

    def test_invalid_address_is_400_naming_email(self):
        for bad in ("not-an-email", "", "   ", "a@b", "a@@example.com", "a b@example.com",
                    ".a@example.com", "a@-example.com", "x" * 65 + "@example.com"):
            with self.subTest(email=bad):
                r = self.api("GET", "/users", query={"email": bad})
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertEqual([e["field"] for e in p.get("errors", [])], ["email"], p)
        r = self.api("GET", "/users", query={"email": ["a@example.com", "b@example.com"]})
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual([e["field"] for e in p.get("errors", [])], ["email"], p)

    def test_email_with_next_token_is_400_naming_next_token(self):
        u = self.create_user(name="Token A")
        self.create_user(name="Token B")
        first = self.api("GET", "/users", query={"limit": "1"})
        self.assertEqual(first.status, 200, first)
        token = first.json["nextToken"]
        ok = self.api("GET", "/users", query={"limit": "1", "nextToken": token})
        self.assertEqual(ok.status, 200, ok)  # the token is good on its own
        r = self.api("GET", "/users", query={"email": u["email"], "nextToken": token})
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual([e["field"] for e in p.get("errors", [])], ["nextToken"], p)

    def test_limit_is_checked_and_otherwise_ignored(self):
        u = self.create_user(name="Limited")
        for lim in ("1", "2", "100"):
            with self.subTest(limit=lim):
                self.assert_envelope(self.lookup(u["email"], [u["userId"]], limit=lim), [u])
        for lim in ("0", "101", "x", "-1"):
            with self.subTest(limit=lim):
                r = self.api("GET", "/users", query={"email": u["email"], "limit": lim})
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertEqual([e["field"] for e in p.get("errors", [])], ["limit"], p)
        # Both wrong: both reported.
        r = self.api("GET", "/users", query={"email": "nope", "limit": "0"})
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(e["field"] for e in p.get("errors", [])), ["email", "limit"], p)


# ---- 3. Idempotency-Key ----------------------------------------------------------------------


class IdempotencyTest(TablesMixin, BootstrapCase):
    TABLE = "UsersPhase2Idempotency"

    def body(self, name="Idem Potent", age=None):
        b = {"name": name, "email": "idem.%s@example.com" % uuid.uuid4().hex[:10]}
        if age is not None:
            b["age"] = age
        return b

    def post(self, body, key, **headers):
        h = dict(headers)
        if key is not None:
            h["Idempotency-Key"] = key
        return self.api("POST", "/users", body, headers=h)

    def record(self, key):
        return claim_item(self.TABLE, "idem#" + key)

    def assert_key_reused(self, r):
        p = self.assert_problem(r, 422, "IDEMPOTENCY_KEY_REUSED")
        self.assertNotIn("Location", r.headers, r)
        return p

    def assert_same_answer(self, first, again):
        self.assertEqual(again.status, 201, again)
        self.assert_common_headers(again)
        self.assertEqual(again.body_text, first.body_text, "the repeat's body is not byte-identical")
        self.assertEqual(again.headers.get("ETag"), first.headers.get("ETag"), again)
        self.assertEqual(again.headers.get("Location"), first.headers.get("Location"), again)

    def test_repeat_returns_the_first_answer(self):
        key = str(uuid.uuid4())
        body = self.body(age=33)
        t0 = time.time()
        first = self.post(body, key)
        self.assertEqual(first.status, 201, first)
        self.assert_common_headers(first)
        uid = first.json["userId"]
        self.assertEqual(first.headers.get("ETag"), '"1"', first)
        self.assertEqual(first.headers.get("Location"), "/users/" + uid, first)
        users_before = canon(CONFIG.ddb.scan_all(self.TABLE))

        rec = self.record(key)
        self.assertIsNotNone(rec, "no idempotency record for the key")
        self.assertEqual(set(rec), {"pk", "requestHash", "userId", "response", "createdAt", "expiresAt"}, rec)
        self.assertEqual(rec["userId"], {"S": uid})
        self.assertEqual(rec["response"], {"S": first.body_text})
        self.assertEqual(rec["requestHash"], {"S": request_hash(body["name"], body["email"], 33)})
        expires = int(rec["expiresAt"]["N"])
        self.assertTrue(int(t0) + IDEMPOTENCY_TTL_S - 5 <= expires <= int(time.time()) + IDEMPOTENCY_TTL_S + 5, rec)

        again = self.post(body, key)
        self.assert_same_answer(first, again)
        # The same fields in another order, with whitespace and escapes: the same request.
        spaced = '{ "age": 33,\n "email": " %s ", "name": "\\u0049dem Potent\\t" }' % body["email"]
        self.assert_same_answer(first, self.post(spaced, key))
        self.assertEqual(canon(CONFIG.ddb.scan_all(self.TABLE)), users_before, "a repeat wrote a user")
        self.assertEqual(len(users_with(self.TABLE, body["email"])), 1)
        self.assertEqual(self.record(key), rec, "a repeat changed the record")

        # The first answer, also after the user has changed and after it was deleted.
        p = self.api("PATCH", "/users/" + uid, {"name": "Changed"})
        self.assertEqual(p.status, 200, p)
        self.assert_same_answer(first, self.post(body, key))
        self.assertEqual(self.api("DELETE", "/users/" + uid).status, 200)
        self.assert_same_answer(first, self.post(body, key))
        self.assertIsNone(self.stored(uid), "a repeat recreated a deleted user")
        self.assertEqual(users_with(self.TABLE, body["email"]), [])

    def test_same_key_another_body_is_422(self):
        key = str(uuid.uuid4())
        body = self.body(age=50)
        first = self.post(body, key)
        self.assertEqual(first.status, 201, first)
        before = self.snapshot()
        others = [dict(body, name="Someone Else"), dict(body, age=51), {"name": body["name"], "email": body["email"]},
                  dict(body, email=body["email"].upper()), self.body(age=50)]
        for other in others:
            with self.subTest(body=other):
                self.assert_key_reused(self.post(other, key))
                self.assertEqual(self.snapshot(), before, "a 422 wrote something")
        # The first body still gets its first answer.
        self.assert_same_answer(first, self.post(body, key))

    def test_key_validation(self):
        bad = {"empty": "", "129 characters": "k" * 129, "control character": "abc\x01def",
               "tab": "abc\tdef", "DEL": "abc\x7f", "non-ASCII": "cl\u00e9", "emoji": "\U0001f600",
               "repeated": ["one", "two"]}
        before = self.snapshot()
        for what, key in bad.items():
            with self.subTest(key=what):
                if isinstance(key, list):
                    # Payload 1.0 only: an HTTP API joins a repeated header into one value
                    # ("one,two"), which is then one well-formed key; REST keeps both values.
                    r = self.rest("POST", "/users", self.body(), headers={"Idempotency-Key": key})
                else:
                    r = self.post(self.body(), key)
                p = self.assert_problem(r, 400, "VALIDATION_FAILED")
                self.assertEqual([e["field"] for e in p.get("errors", [])], ["Idempotency-Key"], p)
        self.assertEqual(self.snapshot(), before, "a refused key wrote something")
        # Checked with the body's fields: every problem at once.
        r = self.post({"name": "", "email": "nope"}, "k" * 129)
        p = self.assert_problem(r, 400, "VALIDATION_FAILED")
        self.assertEqual(sorted(e["field"] for e in p.get("errors", [])), ["Idempotency-Key", "email", "name"], p)

        printable = "".join(chr(c) for c in range(0x21, 0x7F)) + " a b"
        for key in ("k", "K" + uuid.uuid4().hex, (printable + uuid.uuid4().hex)[:128]):
            with self.subTest(key_len=len(key)):
                body = self.body()
                r = self.post(body, key)
                self.assertEqual(r.status, 201, r)
                rec = self.record(key)
                self.assertIsNotNone(rec, "no record under idem#%s" % key)
                self.assertEqual(rec["userId"], {"S": r.json["userId"]})
                self.assert_same_answer(r, self.post(body, key))
        self.assertEqual(len((printable + uuid.uuid4().hex)[:128]), 128)

    def test_failed_create_is_not_remembered(self):
        # 400: a bad body with a key.
        key = str(uuid.uuid4())
        body = self.body()
        bad = self.post(dict(body, age=200), key)
        self.assert_problem(bad, 400, "VALIDATION_FAILED")
        self.assertIsNone(self.record(key), "a 400 left a record")
        good = self.post(body, key)
        self.assertEqual(good.status, 201, good)
        self.assertEqual(self.record(key)["userId"], {"S": good.json["userId"]})

        # 409: a taken address with a key; then the same key with a free address.
        key2 = str(uuid.uuid4())
        taken = self.post({"name": "Late", "email": body["email"].upper()}, key2)
        self.assert_problem(taken, 409, "EMAIL_TAKEN")
        self.assertIsNone(self.record(key2), "a 409 left a record")
        fixed = self.body(name="Late")
        r = self.post(fixed, key2)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["email"], fixed["email"])
        self.assertEqual(claim_owner(self.TABLE, fixed["email"]), r.json["userId"])
        self.assertEqual(self.record(key2)["userId"], {"S": r.json["userId"]})

    def put_record(self, key, created_s, expires_s, hash_, user_id, response="{}"):
        item = {"pk": {"S": "idem#" + key}, "requestHash": {"S": hash_}, "userId": {"S": user_id},
                "response": {"S": response}, "createdAt": {"S": iso_ms(created_s)},
                "expiresAt": {"N": str(int(expires_s))}}
        CONFIG.ddb.ok("PutItem", {"TableName": claims_table(self.TABLE), "Item": item})
        return item

    def test_an_expired_record_does_not_block(self):
        key = str(uuid.uuid4())
        now = time.time()
        old_user = str(uuid.uuid4())
        body = self.body()
        self.put_record(key, now - 2 * IDEMPOTENCY_TTL_S, now - IDEMPOTENCY_TTL_S, "0" * 64, old_user)
        r = self.post(body, key)
        self.assertEqual(r.status, 201, r)
        uid = r.json["userId"]
        self.assertNotEqual(uid, old_user)
        self.assertIsNotNone(self.stored(uid))
        rec = self.record(key)
        self.assertEqual(rec["userId"], {"S": uid}, "the expired record was not replaced")
        self.assertEqual(rec["requestHash"], {"S": request_hash(body["name"], body["email"])})
        self.assertEqual(rec["response"], {"S": r.body_text})
        self.assertGreater(int(rec["expiresAt"]["N"]), now + IDEMPOTENCY_TTL_S - 60)
        self.assert_same_answer(r, self.post(body, key))

        # Expiry is expiresAt, to the second: a record expiring this very second is absent
        # (expiresAt <= now).
        key2 = str(uuid.uuid4())
        self.put_record(key2, now - IDEMPOTENCY_TTL_S, int(time.time()), "0" * 64, old_user)
        r2 = self.post(self.body(), key2)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(self.record(key2)["userId"], {"S": r2.json["userId"]})

    def test_a_live_record_is_honoured(self):
        now = time.time()
        # Another request's record, created an hour ago: 422, and nothing changes.
        key = str(uuid.uuid4())
        item = self.put_record(key, now - 3600, now - 3600 + IDEMPOTENCY_TTL_S, "f" * 64, str(uuid.uuid4()))
        before = self.snapshot()
        self.assert_key_reused(self.post(self.body(), key))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.record(key), item)

        # This request's record (same hash): its stored answer, byte for byte, whatever it says.
        key2 = str(uuid.uuid4())
        body = self.body(age=7)
        rid = str(uuid.uuid4())
        response = json.dumps({"userId": rid, "name": body["name"], "email": body["email"], "age": 7,
                               "createdAt": iso_ms(now - 60), "updatedAt": iso_ms(now - 60), "version": 1},
                              separators=(",", ":"))
        self.put_record(key2, now - 60, now - 60 + IDEMPOTENCY_TTL_S,
                        request_hash(body["name"], body["email"], 7), rid, response)
        before = self.snapshot()
        r = self.post(body, key2)
        self.assertEqual(r.status, 201, r)
        self.assert_common_headers(r)
        self.assertEqual(r.body_text, response)
        self.assertEqual(r.headers.get("Location"), "/users/" + rid, r)
        self.assertEqual(r.headers.get("ETag"), '"1"', r)
        self.assertEqual(self.snapshot(), before, "a replay wrote something")


# ---- 4. the list shows users only --------------------------------------------------------------


class ListOnlyUsersTest(TablesMixin, BootstrapCase):
    TABLE = "UsersPhase2List"
    N = 7

    def test_pages_hold_users_only(self):
        created = {}
        for i in range(self.N):
            headers = {"Idempotency-Key": str(uuid.uuid4())} if i % 2 else None
            r = self.api("POST", "/users", {"name": "Listed %d" % i, "email": "listed%d.%s@example.com"
                                             % (i, uuid.uuid4().hex[:6])}, headers=headers)
            self.assertEqual(r.status, 201, r)
            created[r.json["userId"]] = r.json
        # A change of address and a failed create leave no stray items either.
        first = next(iter(created))
        p = self.api("PATCH", "/users/" + first, {"email": "relisted.%s@example.com" % uuid.uuid4().hex[:6]})
        self.assertEqual(p.status, 200, p)
        created[first] = p.json
        self.assert_problem(self.api("POST", "/users", {"name": "Dup", "email": p.json["email"]}), 409, "EMAIL_TAKEN")

        items = CONFIG.ddb.scan_all(self.TABLE)
        self.assertEqual(len(items), self.N, items)
        for item in items:
            self.assertRegex(item["userId"]["S"], UUID4_RE)
            self.assertNotIn("pk", item, item)
        records = CONFIG.ddb.scan_all(claims_table(self.TABLE))
        kinds = sorted(i["pk"]["S"].split("#", 1)[0] for i in records)
        self.assertEqual(kinds, ["email"] * self.N + ["idem"] * (self.N // 2), kinds)
        self.assert_claims_consistent()

        seen, pages, token = {}, [], None
        while True:
            q = {"limit": "2"}
            if token is not None:
                q["nextToken"] = token
            r = self.api("GET", "/users", query=q)
            self.assertEqual(r.status, 200, r)
            env = r.json
            self.assertLessEqual(set(env), {"users", "count", "nextToken"}, env)
            self.assertEqual(env["count"], len(env["users"]), env)
            for u in env["users"]:
                self.assertNotIn(u["userId"], seen, "user %s listed twice" % u["userId"])
                self.assertEqual(u, created.get(u["userId"]), "not a user of this table, or changed")
                seen[u["userId"]] = u
            pages.append(len(env["users"]))
            self.assertLessEqual(len(pages), self.N + 2, "nextToken never goes away")
            token = env.get("nextToken")
            if token is None:
                break
        self.assertEqual(set(seen), set(created), "every user exactly once")
        self.assertTrue(all(n == 2 for n in pages[:-1]), "a short page before the last: %r" % pages)
        self.assertTrue(1 <= pages[-1] <= 2, pages)
        self.assertEqual(pages, [2, 2, 2, 1], pages)


# ---- 5. races through the local stack ------------------------------------------------------------


def race(gw, jobs, timeout=120):
    """Runs jobs [(method, path, body, headers)] at once, one client (connection) each; returns
    the answers in job order (an exception where a request failed)."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(i, method, path, body, headers):
        client = gw.client(timeout=60)
        try:
            barrier.wait(timeout=30)
            results[i] = client.request(method, path, body=body, headers=headers)
        except BaseException as e:  # reported by the caller
            results[i] = e
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,) + tuple(job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise AssertionError("requests still unanswered after %d s" % timeout)
    return results


class RaceTest(TablesMixin, GatewayCase):
    """Concurrent clients through users-gateway in front of 4 bootstraps."""

    TABLE = "UsersPhase2Races"
    INSTANCES = 4
    CLIENTS = 16

    def answers(self, jobs):
        results = race(self.gw, jobs)
        for job, r in zip(jobs, results):
            self.assertNotIsInstance(r, BaseException, "%s %s: %r" % (job[0], job[1], r))
            self.check_http(r)
            self.assert_common_headers(r)
        return results

    def test_concurrent_creates_of_one_address(self):
        address = "racer.%s@example.com" % uuid.uuid4().hex[:8]
        spellings = case_variants(address, self.CLIENTS)
        jobs = [("POST", "/users", {"name": "Racer %02d" % i, "email": e}, None) for i, e in enumerate(spellings)]
        results = self.answers(jobs)
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [201] + [409] * (self.CLIENTS - 1), statuses)
        for r in results:
            if r.status == 409:
                p = self.assert_problem(r, 409, "EMAIL_TAKEN")
                self.assertEqual([e["field"] for e in p.get("errors", [])], ["email"], p)
        winner = next(r for r in results if r.status == 201).json
        self.assertIn(winner["email"], spellings)
        self.assertEqual([i["userId"]["S"] for i in users_with(self.TABLE, address)], [winner["userId"]])
        claims = {k: v for k, v in email_claims(self.TABLE).items() if k == address}
        self.assertEqual(claims, {address: winner["userId"]})
        self.assertEqual(self.http("GET", "/users/" + winner["userId"]).json, winner)
        self.assert_claims_consistent()

    def test_concurrent_repeats_of_one_key(self):
        # decisions.md: of racing repeats one commits, the others answer the first answer
        # (never 409: there is no "in flight" state).
        key = str(uuid.uuid4())
        body = {"name": "Same Key", "email": "samekey.%s@example.com" % uuid.uuid4().hex[:8], "age": 42}
        jobs = [("POST", "/users", body, {"Idempotency-Key": key})] * self.CLIENTS
        results = self.answers(jobs)
        self.assertEqual([r.status for r in results], [201] * self.CLIENTS, [(r.status, r.body_text) for r in results])
        first = results[0]
        uid = first.json["userId"]
        self.assert_user(first.json, name="Same Key", email=body["email"], age=42, version=1)
        for r in results:
            self.assertEqual(r.body, first.body, "answers differ: %r / %r" % (r, first))
            self.assertEqual(r.headers.get("ETag"), '"1"', r)
            self.assertEqual(r.headers.get("Location"), "/users/" + uid, r)
        self.assertEqual([i["userId"]["S"] for i in users_with(self.TABLE, body["email"])], [uid])
        rec = claim_item(self.TABLE, "idem#" + key)
        self.assertEqual(rec["userId"], {"S": uid})
        self.assertEqual(rec["response"], {"S": first.body.decode("utf-8")})
        self.assertEqual(claim_owner(self.TABLE, body["email"]), uid)
        self.assert_claims_consistent()

    def test_concurrent_moves_to_one_address(self):
        for round_ in range(4):
            with self.subTest(round=round_):
                a = self.create(name="Mover A", email="movera.%s@example.com" % uuid.uuid4().hex[:8])
                b = self.create(name="Mover B", email="moverb.%s@example.com" % uuid.uuid4().hex[:8])
                target = "target.%s@example.com" % uuid.uuid4().hex[:8]
                jobs = [("PATCH", "/users/" + a["userId"], {"email": target}, None),
                        ("PATCH", "/users/" + b["userId"], {"email": target.upper()}, None)]
                results = self.answers(jobs)
                self.assertEqual(sorted(r.status for r in results), [200, 409], results)
                won = 0 if results[0].status == 200 else 1
                winner, loser = (a, b) if won == 0 else (b, a)
                self.assert_problem(results[1 - won], 409, "EMAIL_TAKEN")
                self.assertEqual(results[won].json["version"], 2)
                self.assertEqual(claim_owner(self.TABLE, target), winner["userId"])
                self.assertIsNone(claim_owner(self.TABLE, winner["email"]), "the winner's old address is kept")
                self.assertEqual(claim_owner(self.TABLE, loser["email"]), loser["userId"])
                self.assertEqual(self.stored(loser["userId"])["version"], {"N": "1"})
                self.assertEqual(self.http("GET", "/users/" + loser["userId"]).json, loser)
                self.assertEqual(self.http("GET", "/users/" + winner["userId"]).json, results[won].json)
        self.assert_claims_consistent()


# ---- 6. the back-fill of a phase-1 table --------------------------------------------------------


def run_backfill(table):
    """scripts/backfill-emails.sh against DynamoDB Local: (exit status, JSON lines of stdout,
    the CompletedProcess)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           # DynamoDB Local keeps one database per access key and region: the suite's key.
           "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": "dummy-secret"}
    p = subprocess.run(
        ["bash", os.path.join(CONFIG.repo, "scripts", "backfill-emails.sh"), "--region", REGION,
         "--table", table, "--endpoint", CONFIG.ddb.endpoint, "--bootstrap", CONFIG.bootstrap],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    lines = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if line.strip():
            try:
                lines.append(json.loads(line))
            except ValueError:
                raise AssertionError("back-fill printed a line that is not JSON: %r\n%s" % (line, p.stderr))
    return p.returncode, lines, p


class BackfillTest(TablesMixin, BootstrapCase):
    TABLE = "UsersPhase2Backfill"
    CONFLICTS_TABLE = "UsersPhase2BackfillConflicts"

    def outcome(self, table):
        rc, lines, p = run_backfill(table)
        summaries = [l for l in lines if "scanned" in l]
        self.assertEqual(len(summaries), 1, "one summary expected: %r\n%s" % (lines, p.stderr))
        self.assertIs(lines[-1], summaries[0], "the summary is the last line: %r" % lines)
        self.assertEqual(set(summaries[0]), BACKFILL_SUMMARY_KEYS, summaries[0])
        conflicts = [l for l in lines if "conflict" in l]
        for c in conflicts:
            self.assertEqual(set(c), {"conflict", "userId", "heldBy"}, c)
        return rc, summaries[0], conflicts, p

    def test_conflicts_are_reported_and_the_rest_claimed(self):
        table = self.CONFLICTS_TABLE
        self.assertNotEqual(CONFIG.ddb.call("DescribeTable", {"TableName": table})[0], 200, "table not fresh")
        CONFIG.ddb.create_users_table(table)
        ada1 = phase1_item("Ada One", "ada@example.com")
        ada2 = phase1_item("Ada Two", "ADA@Example.com")
        bob = phase1_item("Bob", "bob@example.com", version=4)
        carol = phase1_item("Carol", "Carol@Example.org")
        no_email = phase1_item("No Email", "x@example.com")
        del no_email["email"], no_email["emailLower"]
        # emailLower no longer matches the scanned email: the user is not claimed.
        moved = phase1_item("Dave", "dave@example.com", lower="old.dave@example.com")
        put_items(table, [ada1, ada2, bob, carol, no_email, moved])
        users_before = canon(CONFIG.ddb.scan_all(table))

        rc, summary, conflicts, p = self.outcome(table)
        self.assertEqual(rc, 3, p.stderr)
        self.assertEqual(summary, {"scanned": 6, "claimed": 3, "alreadyClaimed": 0, "changed": 1, "conflicts": 1,
                                   "skipped": 1, "complete": True}, p.stderr)
        self.assertEqual(len(conflicts), 1, conflicts)
        c = conflicts[0]
        ids = {ada1["userId"]["S"], ada2["userId"]["S"]}
        self.assertEqual(c["conflict"], "ada@example.com")
        self.assertEqual({c["userId"], c["heldBy"]}, ids, c)
        self.assertEqual(email_claims(table), {"ada@example.com": c["heldBy"], "bob@example.com": bob["userId"]["S"],
                                               "carol@example.org": carol["userId"]["S"]})
        self.assertEqual(canon(CONFIG.ddb.scan_all(table)), users_before, "the back-fill changed the users table")

        # Again: nothing new, the same conflict, the same claims.
        claims_before = canon(CONFIG.ddb.scan_all(claims_table(table)))
        rc2, summary2, conflicts2, p2 = self.outcome(table)
        self.assertEqual(rc2, 3, p2.stderr)
        self.assertEqual(summary2, {"scanned": 6, "claimed": 0, "alreadyClaimed": 3, "changed": 1, "conflicts": 1,
                                    "skipped": 1, "complete": True}, p2.stderr)
        self.assertEqual(conflicts2, conflicts)
        self.assertEqual(canon(CONFIG.ddb.scan_all(claims_table(table))), claims_before)
        self.assertEqual(canon(CONFIG.ddb.scan_all(table)), users_before)

    def test_no_conflicts_exits_0_and_the_api_enforces_the_claims(self):
        # The class's own table, served by its bootstrap, filled as phase 1 did.
        self.assertEqual(CONFIG.ddb.scan_all(self.TABLE), [])
        grace = phase1_item("Grace Hopper", "Grace@Example.com")
        alan = phase1_item("Alan Turing", "alan@example.com", version=2)
        put_items(self.TABLE, [grace, alan])
        gid, aid = grace["userId"]["S"], alan["userId"]["S"]

        rc, summary, conflicts, p = self.outcome(self.TABLE)
        self.assertEqual(rc, 0, p.stderr)
        self.assertEqual(conflicts, [])
        self.assertEqual(summary, {"scanned": 2, "claimed": 2, "alreadyClaimed": 0, "changed": 0, "conflicts": 0,
                                   "skipped": 0, "complete": True})
        self.assertEqual(email_claims(self.TABLE), {"grace@example.com": gid, "alan@example.com": aid})

        # The API now sees the back-filled claims.
        self.assert_problem(self.api("POST", "/users", {"name": "Copy", "email": "GRACE@example.com"}),
                            409, "EMAIL_TAKEN")
        self.assert_problem(self.api("PATCH", "/users/" + aid, {"email": "grace@EXAMPLE.com"}), 409, "EMAIL_TAKEN")
        m = self.api("PATCH", "/users/" + aid, {"email": "alan.turing@example.com"})
        self.assertEqual(m.status, 200, m)
        self.assertEqual(m.json["version"], 3)
        self.assertIsNone(claim_owner(self.TABLE, "alan@example.com"))
        self.assertEqual(claim_owner(self.TABLE, "alan.turing@example.com"), aid)
        self.assertEqual(self.api("DELETE", "/users/" + gid).status, 200)
        self.assertIsNone(claim_owner(self.TABLE, "grace@example.com"))
        self.assert_claims_consistent()

        # A third run after the API's changes: everything already claimed.
        rc3, summary3, _, p3 = self.outcome(self.TABLE)
        self.assertEqual(rc3, 0, p3.stderr)
        self.assertEqual(summary3, {"scanned": 1, "claimed": 0, "alreadyClaimed": 1, "changed": 0, "conflicts": 0,
                                    "skipped": 0, "complete": True})


class BeforeAndAfterBackfillTest(TablesMixin, BootstrapCase):
    """A phase-1 table where three users share one address: what the API does with them before
    and after the back-fill (decisions.md, "Back-fill": the holder keeps the address)."""

    TABLE = "UsersPhase2SharedAddress"

    def test_shared_address(self):
        items = [phase1_item("Shared %d" % i, e)
                 for i, e in enumerate(("sam@example.com", "SAM@example.com", "Sam@Example.COM"))]
        put_items(self.TABLE, items)
        ids = {i["userId"]["S"] for i in items}

        # The lookup returns every user with the address, up to limit, in one page.
        r = self.api("GET", "/users", query={"email": "sam@EXAMPLE.com"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json), {"users", "count"}, r.json)
        self.assertEqual({u["userId"] for u in r.json["users"]}, ids)
        for u in r.json["users"]:
            self.assert_user(u, version=1)
        r2 = self.api("GET", "/users", query={"email": "sam@example.com", "limit": "2"})
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(set(r2.json), {"users", "count"}, r2.json)
        self.assertEqual(r2.json["count"], 2, r2)

        rc, lines, p = run_backfill(self.TABLE)
        self.assertEqual(rc, 3, p.stderr)
        conflicts = [l for l in lines if "conflict" in l]
        self.assertEqual(len(conflicts), 2, lines)
        holder = claim_owner(self.TABLE, "sam@example.com")
        self.assertIn(holder, ids)
        self.assertEqual({c["heldBy"] for c in conflicts}, {holder}, conflicts)
        self.assertEqual({c["userId"] for c in conflicts}, ids - {holder}, conflicts)
        self.assertEqual(lines[-1]["conflicts"], 2, lines)
        other1, other2 = sorted(ids - {holder})

        # A new create with the address is now refused.
        self.assert_problem(self.api("POST", "/users", {"name": "Fourth", "email": "sam@example.com"}),
                            409, "EMAIL_TAKEN")
        # The others work as before; changing or deleting them never releases the holder's claim.
        n = self.api("PATCH", "/users/" + other1, {"name": "Renamed"})
        self.assertEqual(n.status, 200, n)
        self.assertEqual(n.json["version"], 2)
        moved = "sam.moved@example.com"
        m = self.api("PATCH", "/users/" + other1, {"email": moved})
        self.assertEqual(m.status, 200, m)
        self.assert_user(m.json, name="Renamed", email=moved, version=3)
        self.assertEqual(claim_owner(self.TABLE, moved), other1)
        self.assertEqual(claim_owner(self.TABLE, "sam@example.com"), holder)
        d = self.api("DELETE", "/users/" + other2)
        self.assertEqual(d.status, 200, d)
        self.assertIsNone(self.stored(other2))
        self.assertEqual(claim_owner(self.TABLE, "sam@example.com"), holder)
        self.assert_claims_consistent()

        # The holder leaving frees the address.
        self.assertEqual(self.api("DELETE", "/users/" + holder).status, 200)
        self.assertIsNone(claim_owner(self.TABLE, "sam@example.com"))
        c = self.api("POST", "/users", {"name": "Newcomer", "email": "Sam@example.com"})
        self.assertEqual(c.status, 201, c)
        self.assertEqual(claim_owner(self.TABLE, "sam@example.com"), c.json["userId"])
        self.assert_claims_consistent()
