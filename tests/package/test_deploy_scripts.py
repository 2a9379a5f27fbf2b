#!/usr/bin/env python3
"""scripts/deploy.sh and scripts/destroy.sh without AWS: stand-in `sam` and `aws` commands on
PATH record how they are called and answer like the real ones, so the scripts' choices (tool,
flags, capabilities, parameters, outputs, refusals) are checked offline.

    python3 tests/package/test_deploy_scripts.py

Needs build/lambda.zip (deploy.sh runs with --no-package). The last line is `N passed, N failed`.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import pkgcommon

OUTPUTS = [
    {"OutputKey": "ApiUrl", "OutputValue": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"},
    {"OutputKey": "TableName", "OutputValue": "UsersTest"},
]

STUB = r"""#!/usr/bin/env python3
import json, os, sys
name = os.path.basename(sys.argv[0])
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps([name] + sys.argv[1:]) + "\n")
args = sys.argv[1:]
outputs = json.loads(os.environ["STUB_OUTPUTS"])
if name == "sam":
    if args[:1] == ["--version"]:
        print("SAM CLI, version 1.999.0")
    elif args[:2] == ["list", "stack-outputs"]:
        print(json.dumps(outputs))
    sys.exit(0)
if args[:1] == ["--version"]:
    print("aws-cli/2.99.0 Python/3 Linux", file=sys.stderr)
elif args[:2] == ["sts", "get-caller-identity"]:
    print("arn:aws:iam::123456789012:user/tester")
elif args[:2] == ["configure", "get"]:
    sys.exit(1)
elif args[:2] == ["cloudformation", "describe-stacks"]:
    if "--output" in args and args[args.index("--output") + 1] == "text":
        print(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName"))
    else:
        print(json.dumps(outputs))
sys.exit(0)
"""


class DeployScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="users-deploy-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        self.log = os.path.join(self.tmp, "calls.jsonl")
        # Only what the scripts need besides the stand-ins: a PATH without the real tools.
        for tool in ("bash", "env", "python3", "sed", "awk", "head", "cut", "mktemp", "rm", "cat", "dirname"):
            real = shutil.which(tool)
            if real:
                os.symlink(real, os.path.join(self.bin, tool))

    def stub(self, *names):
        for n in names:
            p = os.path.join(self.bin, n)
            with open(p, "w") as f:
                f.write(STUB.replace("#!/usr/bin/env python3", "#!" + shutil.which("python3")))
            os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR)

    def run_script(self, script, *args):
        env = {"PATH": self.bin, "HOME": self.tmp, "STUB_LOG": self.log, "STUB_OUTPUTS": json.dumps(OUTPUTS)}
        return subprocess.run([os.path.join(pkgcommon.REPO, "scripts", script), *args], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def test_deploy_with_sam(self):
        self.stub("sam", "aws")
        r = self.run_script("deploy.sh", "--stack", "users-test", "--region", "eu-west-1", "--no-package",
                            "Auth=API_KEY", "AlarmEmail=ops@example.com")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        deploy = next(c for c in self.calls() if c[:2] == ["sam", "deploy"])
        for flag, value in (("--template-file", "infra/template.yaml"), ("--stack-name", "users-test"),
                            ("--region", "eu-west-1")):
            self.assertEqual(deploy[deploy.index(flag) + 1], value, deploy)
        caps = deploy[deploy.index("--capabilities") + 1:deploy.index("--capabilities") + 3]
        self.assertEqual(caps, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        po = deploy.index("--parameter-overrides")
        self.assertEqual(deploy[po + 1:po + 3], ["Auth=API_KEY", "AlarmEmail=ops@example.com"])
        self.assertNotIn("--guided", deploy)
        self.assertTrue("--resolve-s3" in deploy or "--config-file" in deploy, deploy)
        self.assertIn("API base URL: https://abc123.execute-api.eu-west-1.amazonaws.com/prod", r.stdout)
        self.assertIn(["aws", "sts", "get-caller-identity", "--region", "eu-west-1", "--query", "Arn", "--output", "text"],
                      self.calls())

    def test_deploy_with_the_aws_cli_only(self):
        self.stub("aws")
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--s3-bucket", r.stderr)
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package", "--s3-bucket", "my-artifacts")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pkg = next(c for c in self.calls() if c[1:3] == ["cloudformation", "package"])
        self.assertEqual(pkg[pkg.index("--s3-bucket") + 1], "my-artifacts")
        dep = next(c for c in self.calls() if c[1:3] == ["cloudformation", "deploy"])
        self.assertIn("CAPABILITY_AUTO_EXPAND", dep)
        self.assertEqual(dep[dep.index("--stack-name") + 1], "users-api")
        self.assertIn("API base URL: https://abc123", r.stdout)

    def test_refusals(self):
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("neither the AWS SAM CLI", r.stderr)
        self.stub("sam", "aws")
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package", "--smoke", "Auth=IAM")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Auth=NONE", r.stderr)
        r = self.run_script("deploy.sh", "--no-package")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no AWS Region", r.stderr)
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "bad key=1")
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse([c for c in self.calls() if c[:2] == ["sam", "deploy"]], "deployed despite a refusal")

    def test_destroy(self):
        self.stub("sam", "aws")
        r = self.run_script("destroy.sh", "--stack", "users-test", "--region", "eu-west-1")
        self.assertNotEqual(r.returncode, 0, "deleted without confirmation")
        self.assertIn("--yes", r.stderr)
        r = self.run_script("destroy.sh", "--stack", "users-test", "--region", "eu-west-1", "--yes")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(["sam", "delete", "--stack-name", "users-test", "--region", "eu-west-1", "--no-prompts"], self.calls())
        self.assertIn('DynamoDB tables "UsersTest"', r.stdout)
        for table in ("UsersTest", "UsersTest-claims"):
            self.assertIn("aws dynamodb update-table --table-name %s --no-deletion-protection-enabled" % table, r.stdout)
            self.assertIn("aws dynamodb delete-table --table-name %s " % table, r.stdout)


def main():
    if not os.path.isfile(os.path.join(pkgcommon.REPO, "build", "lambda.zip")):
        print("test_deploy_scripts: build/lambda.zip is missing (scripts/package.sh)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    return pkgcommon.run(__name__)


if __name__ == "__main__":
    sys.exit(main())
