"""Create, read, update, delete against DynamoDB Local, checked through the API and in the
stored items."""

import time
import uuid

from harness import CONFIG, BootstrapCase, parse_iso_ms


class CrudTest(BootstrapCase):
    def stored(self, user_id):
        return CONFIG.ddb.get_item(self.TABLE, user_id)

    def test_full_crud_flow(self):
        email = "ada.%s@Example.com" % uuid.uuid4().hex[:8]
        before = int(time.time() * 1000)
        r = self.api("POST", "/users", {"name": "  Ada Lovelace\t", "email": " %s\n" % email, "age": 36})
        after = int(time.time() * 1000)
        self.assertEqual(r.status, 201, r)
        self.assert_common_headers(r)
        user = r.json
        self.assert_user(user, name="Ada Lovelace", email=email, age=36, version=1)
        uid = user["userId"]
        self.assertEqual(r.headers.get("Location"), "/users/" + uid, r)
        self.assertEqual(r.headers.get("ETag"), '"1"', r)
        self.assertEqual(user["createdAt"], user["updatedAt"], user)
        created = parse_iso_ms(user["createdAt"])
        self.assertTrue(before - 2000 <= created <= after + 2000, (before, created, after))

        item = self.stored(uid)
        self.assertIsNotNone(item, "the created user is not in the table")
        self.assertEqual(item["userId"], {"S": uid})
        self.assertEqual(item["name"], {"S": "Ada Lovelace"})
        self.assertEqual(item["email"], {"S": email})
        self.assertEqual(item["age"], {"N": "36"})
        self.assertEqual(item["version"], {"N": "1"})
        self.assertEqual(item["createdAt"], {"S": user["createdAt"]})
        if "emailLower" in item:  # stored for phase 2, never returned (checked by assert_user)
            self.assertEqual(item["emailLower"], {"S": email.lower()})

        g = self.api("GET", "/users/" + uid)
        self.assertEqual(g.status, 200, g)
        self.assert_common_headers(g)
        self.assertEqual(g.json, user)
        self.assertEqual(g.headers.get("ETag"), '"1"', g)

        # PUT is a partial update: only the name changes.
        time.sleep(0.005)
        p = self.api("PUT", "/users/" + uid, {"name": "Augusta Ada King"})
        self.assertEqual(p.status, 200, p)
        self.assert_common_headers(p)
        self.assert_user(p.json, name="Augusta Ada King", email=email, age=36, version=2)
        self.assertEqual(p.json["userId"], uid)
        self.assertEqual(p.json["createdAt"], user["createdAt"])
        self.assertGreaterEqual(parse_iso_ms(p.json["updatedAt"]), parse_iso_ms(user["createdAt"]))
        self.assertEqual(p.headers.get("ETag"), '"2"', p)
        self.assertEqual(self.stored(uid)["version"], {"N": "2"})

        # A GET right after the update sees it.
        g2 = self.api("GET", "/users/" + uid)
        self.assertEqual(g2.status, 200, g2)
        self.assertEqual(g2.json, p.json)
        self.assertEqual(g2.headers.get("ETag"), '"2"', g2)

        # PATCH with "age": null removes the age from the resource and the item.
        pa = self.api("PATCH", "/users/" + uid, {"age": None})
        self.assertEqual(pa.status, 200, pa)
        self.assert_common_headers(pa)
        self.assert_user(pa.json, name="Augusta Ada King", email=email, age="absent", version=3)
        self.assertNotIn("age", pa.json)
        self.assertEqual(pa.headers.get("ETag"), '"3"', pa)
        item = self.stored(uid)
        self.assertNotIn("age", item, "age still stored after \"age\": null: %r" % item)
        self.assertEqual(item["version"], {"N": "3"})
        g3 = self.api("GET", "/users/" + uid)
        self.assertEqual(g3.json, pa.json)

        d = self.api("DELETE", "/users/" + uid)
        self.assertEqual(d.status, 200, d)
        self.assert_common_headers(d)
        self.assertEqual(d.json, {"message": "User deleted", "userId": uid})
        self.assertIsNone(self.stored(uid), "the user is still in the table after DELETE")

        gone = self.api("GET", "/users/" + uid)
        self.assert_problem(gone, 404, "NOT_FOUND")
        self.assertIsNone(gone.headers.get("ETag"), gone)

        # Deleting again, updating a deleted user: 404.
        self.assert_problem(self.api("DELETE", "/users/" + uid), 404, "NOT_FOUND")
        self.assert_problem(self.api("PUT", "/users/" + uid, {"name": "X"}), 404, "NOT_FOUND")
        self.assertIsNone(self.stored(uid), "a PUT on a deleted user must not recreate it")

    def test_create_without_age_and_with_age_zero(self):
        u = self.create_user(name="No Age")
        self.assert_user(u, name="No Age", age="absent", version=1)
        self.assertNotIn("age", self.stored(u["userId"]))
        z = self.create_user(name="Newborn", age=0)
        self.assert_user(z, name="Newborn", age=0, version=1)
        self.assertEqual(self.stored(z["userId"])["age"], {"N": "0"})

    def test_each_create_gets_a_new_id(self):
        email = "same.%s@example.com" % uuid.uuid4().hex[:8]
        a = self.api("POST", "/users", {"name": "Twin", "email": email})
        b = self.api("POST", "/users", {"name": "Twin", "email": email.upper().replace("@EXAMPLE.COM", "@example.com")})
        self.assertEqual(a.status, 201, a)
        # Phase 2 (email uniqueness) may answer 409 here; a second 201 must carry a new id.
        self.assertIn(b.status, (201, 409), b)
        if b.status == 201:
            self.assertNotEqual(a.json["userId"], b.json["userId"])
        else:
            self.assert_problem(b, 409, "EMAIL_TAKEN")
        self.assertNotEqual(a.request_id, b.request_id)

    def test_unicode_name_round_trips(self):
        name = "Zoë Ørsted 李小龍 \U0001f600"
        u = self.create_user(name=name)
        self.assertEqual(u["name"], name)
        self.assertEqual(self.stored(u["userId"])["name"], {"S": name})
        g = self.api("GET", "/users/" + u["userId"])
        self.assertEqual(g.json["name"], name)

    def test_reads_are_consistent_after_each_update(self):
        u = self.create_user(name="Counter", age=1)
        uid = u["userId"]
        for i in range(2, 12):
            p = self.api("PUT" if i % 2 else "PATCH", "/users/" + uid, {"age": i, "name": "Counter %d" % i})
            self.assertEqual(p.status, 200, p)
            g = self.api("GET", "/users/" + uid)
            self.assertEqual(g.status, 200, g)
            self.assertEqual(g.json["version"], i, g)
            self.assertEqual(g.json["age"], i, g)
            self.assertEqual(g.json["name"], "Counter %d" % i, g)
            self.assertEqual(g.headers.get("ETag"), '"%d"' % i, g)

    def test_update_with_same_values_still_bumps_version(self):
        u = self.create_user(name="Same", age=40)
        p = self.api("PUT", "/users/" + u["userId"], {"name": "Same", "age": 40})
        self.assertEqual(p.status, 200, p)
        self.assertEqual(p.json["version"], 2)
        self.assertGreaterEqual(parse_iso_ms(p.json["updatedAt"]), parse_iso_ms(u["updatedAt"]))
        self.assertEqual(p.json["createdAt"], u["createdAt"])

    def test_update_email_only(self):
        u = self.create_user(name="Mail Mover", age=30)
        new = "moved.%s@example.org" % uuid.uuid4().hex[:8]
        p = self.api("PATCH", "/users/" + u["userId"], {"email": "  %s " % new})
        self.assertEqual(p.status, 200, p)
        self.assert_user(p.json, name="Mail Mover", email=new, age=30, version=2)
        self.assertEqual(self.stored(u["userId"])["email"], {"S": new})

    def test_list_sees_new_and_deleted_users(self):
        u = self.create_user(name="Listed")
        uid = u["userId"]
        seen = self._list_all()
        self.assertIn(uid, seen)
        self.assertEqual(seen[uid], u)
        d = self.api("DELETE", "/users/" + uid)
        self.assertEqual(d.status, 200, d)
        self.assertNotIn(uid, self._list_all())

    def _list_all(self):
        seen, token, pages = {}, None, 0
        while True:
            q = {"limit": "100"}
            if token:
                q["nextToken"] = token
            r = self.api("GET", "/users", query=q)
            self.assertEqual(r.status, 200, r)
            self.assert_common_headers(r)
            env = r.json
            self.assertLessEqual(set(env), {"users", "count", "nextToken"}, env)
            self.assertEqual(env["count"], len(env["users"]))
            for user in env["users"]:
                self.assert_user(user, age=user.get("age", "absent"))
                self.assertNotIn(user["userId"], seen)
                seen[user["userId"]] = user
            token = env.get("nextToken")
            pages += 1
            self.assertLess(pages, 1000)
            if token is None:
                return seen
