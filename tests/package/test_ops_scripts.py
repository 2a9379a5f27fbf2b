#!/usr/bin/env python3
"""scripts/api-keys.sh and scripts/restore.sh without AWS: a stand-in `aws` on PATH keeps API
Gateway's keys and usage plan in a JSON file and records every call, so the exact AWS CLI calls,
their order and the refusals are checked offline. restore.sh's --switch runs a stand-in
scripts/deploy.sh (in a copy of scripts/), which records its arguments.

    python3 tests/package/test_ops_scripts.py

The last line is `N passed, N failed`.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import pkgcommon

STUB = r"""#!PYTHON
import json, os, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
path = os.environ["STUB_STATE"]
st = json.load(open(path))
def opt(flag):
    return args[args.index(flag) + 1] if flag in args else None
def save():
    json.dump(st, open(path, "w"))
cmd = args[:2]
if cmd == ["configure", "get"]:
    sys.exit(1)
if cmd == ["cloudformation", "describe-stacks"]:
    key = re.search(r"OutputKey=='(\w+)'", opt("--query")).group(1) if "--query" in args else None
    print(st["outputs"].get(key, "None"))
elif cmd == ["apigateway", "get-usage-plan-keys"]:
    assert opt("--usage-plan-id") == st["outputs"]["UsagePlanId"]
    print(json.dumps({"items": [{"id": k, "name": st["keys"][k]["name"], "type": "API_KEY"} for k in st["plan"]]}))
elif cmd == ["apigateway", "create-api-key"]:
    kid = "key%03d" % (len(st["keys"]) + 1)
    st["keys"][kid] = {"id": kid, "name": opt("--name"), "enabled": "--enabled" in args,
                       "value": "VALUE-" + kid, "createdDate": "2026-12-05T10:00:00Z"}
    save()
    print(kid)
elif cmd == ["apigateway", "create-usage-plan-key"]:
    st["plan"].append(opt("--key-id"))
    save()
elif cmd == ["apigateway", "get-api-key"]:
    k = dict(st["keys"][opt("--api-key")])
    if "--include-value" not in args:
        del k["value"]
    print(k["value"] if opt("--query") == "value" else json.dumps(k))
elif cmd == ["apigateway", "delete-usage-plan-key"]:
    st["plan"].remove(opt("--key-id"))
    save()
elif cmd == ["apigateway", "update-api-key"]:
    assert opt("--patch-operations") == "op=replace,path=/enabled,value=false"
    st["keys"][opt("--api-key")]["enabled"] = False
    save()
elif cmd == ["dynamodb", "describe-table"]:
    name = opt("--table-name")
    t = st.get("tables", {}).get(name)
    if t is None:
        print("An error occurred (ResourceNotFoundException)", file=sys.stderr)
        sys.exit(254)
    q = opt("--query")
    print(t["TableArn"] if q == "Table.TableArn" else "ACTIVE" if q == "Table.TableStatus" else json.dumps({"Table": t}))
elif cmd == ["dynamodb", "describe-time-to-live"]:
    print(st["ttl"].get(opt("--table-name"), "DISABLED\tNone"))
elif cmd == ["dynamodb", "describe-continuous-backups"]:
    print(st["latest"][opt("--table-name")])
elif cmd[0] == "dynamodb" and cmd[1].startswith("restore-table"):
    name = opt("--target-table-name")
    st["tables"][name] = {"TableName": name, "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/" + name}
    save()
    print("{}")
elif cmd == ["dynamodb", "list-tags-of-resource"]:
    print(json.dumps(st["tags"].get(opt("--resource-arn"), [])))
import re
sys.exit(0)
""".replace("import json, os, sys", "import json, os, re, sys")

DEPLOY = r"""#!PYTHON
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(["deploy.sh"] + sys.argv[1:]) + "\n")
"""

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/"


class OpsScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="users-ops-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        self.repo = os.path.join(self.tmp, "repo")
        shutil.copytree(os.path.join(pkgcommon.REPO, "scripts"), os.path.join(self.repo, "scripts"))
        self.write_exe(os.path.join(self.repo, "scripts", "deploy.sh"), DEPLOY)
        self.write_exe(os.path.join(self.bin, "aws"), STUB)
        for tool in ("bash", "env", "python3", "sed", "awk", "head", "cut", "mktemp", "rm", "cat",
                     "dirname", "date", "grep"):
            real = shutil.which(tool)
            if real:
                os.symlink(real, os.path.join(self.bin, tool))
        self.log = os.path.join(self.tmp, "calls.jsonl")
        self.state = os.path.join(self.tmp, "state.json")
        self.st = {"outputs": {"UsagePlanId": "plan1", "ApiKeyId": "key001", "TableName": "Users",
                               "ClaimsTableName": "Users-claims"},
                   "keys": {"key001": {"id": "key001", "name": "users-test-key", "enabled": True, "value": "STACKKEY",
                                       "createdDate": "2026-12-01T00:00:00Z"}},
                   "plan": ["key001"],
                   "tables": {"Users": {"TableName": "Users", "TableArn": ARN + "Users",
                                        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}},
                              "Users-claims": {"TableName": "Users-claims", "TableArn": ARN + "Users-claims"}},
                   "ttl": {"Users": "ENABLED\texpiresAt", "Users-claims": "ENABLED\texpiresAt"},
                   "latest": {"Users": "2026-12-05T09:58:00+00:00", "Users-claims": "2026-12-05T09:57:30+00:00"},
                   "tags": {ARN + "Users": [{"Key": "team", "Value": "identity"},
                                            {"Key": "aws:cloudformation:stack-name", "Value": "users-test"}]}}

    def write_exe(self, path, text):
        with open(path, "w") as f:
            f.write(text.replace("#!PYTHON", "#!" + shutil.which("python3")))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def run_script(self, script, *args):
        with open(self.state, "w") as f:
            json.dump(self.st, f)
        if os.path.exists(self.log):
            os.unlink(self.log)
        env = {"PATH": self.bin, "HOME": self.tmp, "STUB_LOG": self.log, "STUB_STATE": self.state}
        r = subprocess.run([os.path.join(self.repo, "scripts", script), "--stack", "users-test", "--region", "eu-west-1",
                            *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        with open(self.state) as f:
            self.st = json.load(f)
        return r

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def mutating(self, prefix):
        """The calls that change something (not describe/get/list/wait)."""
        return [c for c in self.calls() if c[0] == "deploy.sh" or
                (c[0] == prefix and not re.match(r"(describe|get|list|wait)", c[1]))]

    # ---- api-keys.sh ----

    def test_add_list_rotate_revoke(self):
        r = self.run_script("api-keys.sh", "add", "acme")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.mutating("apigateway"), [
            ["apigateway", "create-api-key", "--name", "users-test-acme", "--enabled", "--tags",
             "client=acme,stack=users-test", "--region", "eu-west-1", "--query", "id", "--output", "text"],
            ["apigateway", "create-usage-plan-key", "--usage-plan-id", "plan1", "--key-id", "key002",
             "--key-type", "API_KEY", "--region", "eu-west-1", "--output", "json"]])
        self.assertIn("key id: key002", r.stdout)
        self.assertNotIn("VALUE-key002", r.stdout + r.stderr)
        self.assertFalse([c for c in self.calls() if "--include-value" in c], "read a value without --show-value")
        self.assertEqual(self.st["plan"], ["key001", "key002"])
        # A second add for the same client is refused: that is what rotate is for.
        r = self.run_script("api-keys.sh", "add", "acme")
        self.assertEqual(r.returncode, 1)
        self.assertIn("use rotate", r.stderr)
        r = self.run_script("api-keys.sh", "add", "globex", "--show-value")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("value:  VALUE-key003", r.stdout)
        # rotate: a new key, the old one still enabled and on the plan.
        r = self.run_script("api-keys.sh", "rotate", "acme")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        create = self.mutating("apigateway")[0]
        self.assertRegex(create[create.index("--name") + 1], r"^users-test-acme-\d{8}T\d{6}Z$")
        self.assertEqual(self.st["plan"], ["key001", "key002", "key003", "key004"])
        self.assertTrue(self.st["keys"]["key002"]["enabled"])
        self.assertIn("revoke key002", r.stdout)
        self.assertNotIn("revoke key003", r.stdout)  # globex's key is not acme's
        # A second rotation lists both of acme's older keys.
        r = self.run_script("api-keys.sh", "rotate", "acme")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("revoke key002", r.stdout)
        self.assertIn("revoke key004", r.stdout)
        r = self.run_script("api-keys.sh", "list")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"key001 +users-test-key +true .*\(the stack's own key\)")
        self.assertRegex(r.stdout, r"key002 +users-test-acme +true")
        self.assertNotIn("VALUE-", r.stdout)
        # revoke: off the plan, then disabled — in that order.
        r = self.run_script("api-keys.sh", "revoke", "key002")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([c[:2] for c in self.mutating("apigateway")],
                         [["apigateway", "delete-usage-plan-key"], ["apigateway", "update-api-key"]])
        self.assertNotIn("key002", self.st["plan"])
        self.assertFalse(self.st["keys"]["key002"]["enabled"])
        self.assertTrue(self.st["keys"]["key004"]["enabled"])

    def test_api_key_refusals(self):
        for args, message in ((("revoke", "key001"), "the stack's own key"),
                              (("revoke", "key999"), "not on usage plan"),
                              (("rotate", "nobody"), "has no key on the plan"),
                              (("add", "bad name"), "NAME must be"),
                              (("list", "--show-value"), "--show-value goes with add or rotate"),
                              (("frobnicate",), "unknown command"),
                              ((), "which command")):
            r = self.run_script("api-keys.sh", *args)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertIn(message, r.stderr, args)
            self.assertEqual(self.mutating("apigateway"), [], args)
        del self.st["outputs"]["UsagePlanId"]
        r = self.run_script("api-keys.sh", "list")
        self.assertEqual(r.returncode, 1)
        self.assertIn("ApiType=REST and Auth=API_KEY", r.stderr)

    # ---- restore.sh ----

    REAPPLY = [
        ["dynamodb", "update-time-to-live", "--table-name", "Ur1-claims", "--region", "eu-west-1",
         "--time-to-live-specification", "Enabled=true,AttributeName=expiresAt", "--output", "json"],
        ["dynamodb", "update-time-to-live", "--table-name", "Ur1", "--region", "eu-west-1",
         "--time-to-live-specification", "Enabled=true,AttributeName=expiresAt", "--output", "json"],
        ["dynamodb", "update-continuous-backups", "--table-name", "Ur1", "--region", "eu-west-1",
         "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", "--output", "json"],
        ["dynamodb", "update-continuous-backups", "--table-name", "Ur1-claims", "--region", "eu-west-1",
         "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true", "--output", "json"],
        ["dynamodb", "update-table", "--table-name", "Ur1", "--region", "eu-west-1",
         "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES", "--output", "json"],
        ["dynamodb", "update-table", "--table-name", "Ur1", "--region", "eu-west-1", "--deletion-protection-enabled",
         "--output", "json"],
        ["dynamodb", "update-table", "--table-name", "Ur1-claims", "--region", "eu-west-1",
         "--deletion-protection-enabled", "--output", "json"],
        ["dynamodb", "tag-resource", "--resource-arn", ARN + "Ur1", "--region", "eu-west-1",
         "--tags", '[{"Key": "team", "Value": "identity"}]'],
    ]
    RESTORE_OPTS = ["--region", "eu-west-1", "--billing-mode-override", "PAY_PER_REQUEST",
                    "--sse-specification-override", "Enabled=true,SSEType=KMS", "--output", "json"]

    def test_restore_to_a_point_in_time_and_switch(self):
        r = self.run_script("restore.sh", "--time", "2026-12-05T10:30:00+01:00", "--target", "Ur1", "--switch", "--smoke")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.mutating("dynamodb"), [
            ["dynamodb", "restore-table-to-point-in-time", "--source-table-name", "Users", "--restore-date-time",
             "2026-12-05T09:30:00Z", "--target-table-name", "Ur1"] + self.RESTORE_OPTS,
            ["dynamodb", "restore-table-to-point-in-time", "--source-table-name", "Users-claims", "--restore-date-time",
             "2026-12-05T09:30:00Z", "--target-table-name", "Ur1-claims"] + self.RESTORE_OPTS,
        ] + self.REAPPLY + [
            ["deploy.sh", "--stack", "users-test", "--region", "eu-west-1", "--no-package", "--smoke",
             "ExistingTableName=Ur1"]])
        # Waited for ACTIVE after each restore and each update-table, before going on.
        calls = self.calls()
        kinds = [c[1] if c[0] == "dynamodb" else c[0] for c in calls
                 if c[0] == "deploy.sh" or c[1] in ("restore-table-to-point-in-time", "wait", "update-table")]
        self.assertEqual(kinds, ["restore-table-to-point-in-time", "restore-table-to-point-in-time", "wait", "wait",
                                 "update-table", "wait", "update-table", "wait", "update-table", "wait", "deploy.sh"])
        waits = [c for c in calls if c[1] == "wait"]
        self.assertEqual([w[w.index("--table-name") + 1] for w in waits], ["Ur1", "Ur1-claims", "Ur1", "Ur1", "Ur1-claims"])
        self.assertTrue(all(w[2] == "table-exists" for w in waits))

    def test_restore_latest_uses_one_moment_for_both(self):
        r = self.run_script("restore.sh", "--latest", "--target", "Ur1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        restores = [c for c in self.mutating("dynamodb") if c[1].startswith("restore-table")]
        self.assertEqual([c[c.index("--restore-date-time") + 1] for c in restores], ["2026-12-05T09:57:30Z"] * 2)
        self.assertIn("scripts/deploy.sh --stack users-test --region eu-west-1 --no-package ExistingTableName=Ur1", r.stdout)
        self.assertFalse([c for c in self.calls() if c[0] == "deploy.sh"], "switched without --switch")

    def test_restore_from_backups(self):
        users_b, claims_b = ARN + "Users/backup/01700000000000-aaaa", ARN + "Users-claims/backup/01700000000000-bbbb"
        r = self.run_script("restore.sh", "--backup-arn", claims_b, "--backup-arn", users_b, "--target", "Ur1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.mutating("dynamodb")[:2], [
            ["dynamodb", "restore-table-from-backup", "--backup-arn", users_b, "--target-table-name", "Ur1"] + self.RESTORE_OPTS,
            ["dynamodb", "restore-table-from-backup", "--backup-arn", claims_b, "--target-table-name", "Ur1-claims"]
            + self.RESTORE_OPTS])
        self.assertEqual(self.mutating("dynamodb")[2:], self.REAPPLY)

    def test_default_target_and_no_stream(self):
        del self.st["tables"]["Users"]["StreamSpecification"]
        self.st["ttl"]["Users"] = "DISABLED\tNone"
        r = self.run_script("restore.sh", "--latest")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        first = self.mutating("dynamodb")[0]
        target = first[first.index("--target-table-name") + 1]
        self.assertRegex(target, r"^Users-restored-\d{8}T\d{6}Z$")
        kinds = [c[1:3] for c in self.mutating("dynamodb")]
        self.assertNotIn("--stream-specification", json.dumps(self.mutating("dynamodb")))
        self.assertEqual(sum(1 for k in kinds if k[0] == "update-time-to-live"), 1)  # the claims table only
        self.assertIn(target + "-claims", json.dumps(self.mutating("dynamodb")))

    def test_restore_refusals(self):
        users_b = ARN + "Users/backup/01700000000000-aaaa"
        for args, message in ((("--target", "Ur1"), "say what to restore from"),
                              (("--latest", "--time", "2026-12-05T09:00:00Z"), "say what to restore from"),
                              (("--time", "2026-12-05 09:00"), "is unclear"),
                              (("--time", "2026-12-05T09:00:00"), "is unclear"),  # no zone
                              (("--time", "2099-01-01T00:00:00Z"), "is unclear"),
                              (("--backup-arn", users_b), "give two --backup-arn"),
                              (("--backup-arn", users_b, "--backup-arn", users_b), "unclear backups"),
                              (("--latest", "--smoke"), "--smoke goes with --switch"),
                              (("--latest", "--target", "Users"), "the source table itself"),
                              (("--latest", "--target", "Users-claims"), "already exists"),
                              (("--latest", "--target", "x y"), "--target must be")):
            r = self.run_script("restore.sh", *args)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertIn(message, r.stderr, args)
            self.assertEqual(self.mutating("dynamodb"), [], args)


def main():
    return pkgcommon.run(__name__)


if __name__ == "__main__":
    sys.exit(main())
