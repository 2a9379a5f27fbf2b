"""If-Match: optimistic concurrency on PUT, PATCH and DELETE."""

import uuid

from harness import CONFIG, BootstrapCase


class IfMatchTest(BootstrapCase):
    def stored(self, uid):
        return CONFIG.ddb.get_item(self.TABLE, uid)

    def test_put_with_matching_then_stale_version(self):
        u = self.create_user(name="Versioned", age=20)
        uid = u["userId"]
        ok = self.api("PUT", "/users/" + uid, {"name": "Versioned 2"}, headers={"If-Match": '"1"'})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.json["version"], 2)
        self.assertEqual(ok.headers.get("ETag"), '"2"', ok)
        before = self.stored(uid)

        stale = self.api("PUT", "/users/" + uid, {"name": "Lost update"}, headers={"If-Match": '"1"'})
        self.assert_problem(stale, 412, "PRECONDITION_FAILED")
        self.assertEqual(self.stored(uid), before, "a 412 must leave the item unchanged")
        g = self.api("GET", "/users/" + uid)
        self.assertEqual(g.json, ok.json)

        again = self.api("PUT", "/users/" + uid, {"age": 21}, headers={"If-Match": '"2"'})
        self.assertEqual(again.status, 200, again)
        self.assert_user(again.json, name="Versioned 2", age=21, version=3)

    def test_patch_with_stale_version(self):
        u = self.create_user(name="Patchy")
        uid = u["userId"]
        before = self.stored(uid)
        r = self.api("PATCH", "/users/" + uid, {"name": "Nope"}, headers={"If-Match": '"7"'})
        self.assert_problem(r, 412, "PRECONDITION_FAILED")
        self.assertEqual(self.stored(uid), before)
        ok = self.api("PATCH", "/users/" + uid, {"name": "Yes"}, headers={"If-Match": '"1"'})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.json["name"], "Yes")

    def test_delete_with_stale_then_matching_version(self):
        u = self.create_user(name="Deletable")
        uid = u["userId"]
        p = self.api("PUT", "/users/" + uid, {"name": "Deletable 2"})
        self.assertEqual(p.status, 200, p)
        before = self.stored(uid)
        stale = self.api("DELETE", "/users/" + uid, headers={"If-Match": '"1"'})
        self.assert_problem(stale, 412, "PRECONDITION_FAILED")
        self.assertEqual(self.stored(uid), before, "a 412 DELETE must not delete")
        ok = self.api("DELETE", "/users/" + uid, headers={"If-Match": '"2"'})
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.json, {"message": "User deleted", "userId": uid})
        self.assertIsNone(self.stored(uid))

    def test_if_match_on_missing_user_is_404(self):
        uid = str(uuid.uuid4())
        put = self.api("PUT", "/users/" + uid, {"name": "Ghost"}, headers={"If-Match": '"1"'})
        self.assert_problem(put, 404, "NOT_FOUND")
        patch = self.api("PATCH", "/users/" + uid, {"name": "Ghost"}, headers={"If-Match": '"1"'})
        self.assert_problem(patch, 404, "NOT_FOUND")
        delete = self.api("DELETE", "/users/" + uid, headers={"If-Match": '"1"'})
        self.assert_problem(delete, 404, "NOT_FOUND")
        self.assertIsNone(self.stored(uid), "a conditional update must never create the user")

    def test_missing_user_without_if_match_is_404(self):
        uid = str(uuid.uuid4())
        self.assert_problem(self.api("GET", "/users/" + uid), 404, "NOT_FOUND")
        self.assert_problem(self.api("PUT", "/users/" + uid, {"name": "Ghost"}), 404, "NOT_FOUND")
        self.assert_problem(self.api("DELETE", "/users/" + uid), 404, "NOT_FOUND")
        self.assertIsNone(self.stored(uid), "PUT on a missing user must not create it (no upsert)")
