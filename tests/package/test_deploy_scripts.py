#!/usr/bin/env python3
"""scripts/deploy.sh and scripts/destroy.sh without AWS: stand-in `sam` and `aws` commands on
PATH record how they are called and answer like the real ones, so the scripts' choices (tool,
flags, capabilities, parameters, outputs, refusals, the smoke test's credential, the package's
architecture, CodeDeploy's progress and rollback) are checked offline.

Each test runs the scripts in a copy of the repository's scripts/ and infra/ in a temporary
directory, with stand-ins for scripts/package.sh (records its arguments, writes the zip) and
scripts/smoke.sh (records its arguments and the credentials it was given), so nothing of the
real build/ is read or written.

    python3 tests/package/test_deploy_scripts.py

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

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
OUTPUTS = [
    {"OutputKey": "ApiUrl", "OutputValue": URL},
    {"OutputKey": "TableName", "OutputValue": "UsersTest"},
]

# Stand-in sam and aws: one script, named by argv[0]. STUB_SCENARIO (JSON) says how to answer:
#   outputs          the deployed stack's outputs (sam list stack-outputs, describe-stacks)
#   stack            the existing stack before the deployment ({Parameters, Outputs}) or absent
#   deploy_seconds   how long sam/aws deploy runs; deploy_rc its exit status
#   deployments      {id: [[status, weight, error message], ...]}: each get-deployment call
#                    moves one step on (CodeDeploy's progress)
#   stack_status     what describe-stacks --query Stacks[0].StackStatus answers
#   api_key_value, export_credentials, cognito_fail
STUB = r"""#!PYTHON
import json, os, sys, time
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
state = os.environ["STUB_STATE"]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps([name] + args) + "\n")
sc = json.loads(os.environ.get("STUB_SCENARIO", "{}"))
outputs = sc.get("outputs", [])
def opt(flag, default=None):
    return args[args.index(flag) + 1] if flag in args else default
def step(key, n):
    # The how-many-th call this is for key (0-based), capped at n - 1.
    p = os.path.join(state, "count-" + key)
    i = int(open(p).read()) if os.path.exists(p) else 0
    open(p, "w").write(str(i + 1))
    return min(i, n - 1)
def deploy():
    # Like CloudFormation, the update lasts until CodeDeploy is done: every step of each
    # deployment has been looked at (or deploy_seconds have passed).
    deadline = time.time() + sc.get("deploy_seconds", 0)
    while time.time() < deadline:
        left = [d for d, steps in sc.get("deployments", {}).items()
                if not os.path.exists(os.path.join(state, "count-dep-" + d))
                or int(open(os.path.join(state, "count-dep-" + d)).read()) < len(steps)]
        if not left:
            break
        time.sleep(0.05)
    sys.exit(sc.get("deploy_rc", 0))
if name == "sam":
    if args[:1] == ["--version"]:
        print("SAM CLI, version 1.999.0")
    elif args[:2] == ["list", "stack-outputs"]:
        print(json.dumps(outputs))
    elif args[:1] == ["deploy"]:
        deploy()
    sys.exit(0)
if args[:1] == ["--version"]:
    print("aws-cli/2.99.0 Python/3 Linux", file=sys.stderr)
elif args[:2] == ["sts", "get-caller-identity"]:
    print("arn:aws:iam::123456789012:user/tester")
elif args[:2] == ["configure", "get"]:
    sys.exit(1)
elif args[:2] == ["configure", "export-credentials"]:
    print(sc.get("export_credentials", ""))
elif args[:2] == ["cloudformation", "describe-stacks"]:
    q = opt("--query")
    if q is None:
        if "stack" not in sc:
            print("An error occurred (ValidationError): Stack with id %s does not exist" % opt("--stack-name"), file=sys.stderr)
            sys.exit(254)
        print(json.dumps({"Stacks": [sc["stack"]]}))
    elif q == "Stacks[0].StackStatus":
        print(sc.get("stack_status", "UPDATE_COMPLETE"))
    elif opt("--output") == "text":
        print(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "TableName"))
    else:
        print(json.dumps(outputs))
elif args[:2] == ["cloudformation", "deploy"]:
    deploy()
elif args[:2] == ["deploy", "list-deployments"]:
    print("\t".join(sc.get("deployments", {})) or "None")
elif args[:2] == ["deploy", "get-deployment"]:
    d = opt("--deployment-id")
    steps = sc["deployments"][d]
    status, weight, message = steps[step("dep-" + d, len(steps))]
    open(os.path.join(state, "weight-" + d), "w").write(str(weight))
    info = {"deploymentId": d, "status": status}
    if message:
        info["errorInformation"] = {"code": "ALARM_ACTIVE", "message": message}
    print(json.dumps({"deploymentInfo": info}))
elif args[:2] == ["deploy", "list-deployment-targets"]:
    print("target-" + opt("--deployment-id"))
elif args[:2] == ["deploy", "get-deployment-target"]:
    p = os.path.join(state, "weight-" + opt("--deployment-id"))
    print(open(p).read() if os.path.exists(p) else "None")
elif args[:2] == ["apigateway", "get-api-key"]:
    print(sc.get("api_key_value", "the-key-value"))
elif args[:2] == ["cognito-idp", "admin-set-user-password"]:
    req = json.load(open(opt("--cli-input-json")[len("file://"):]))
    with open(os.path.join(state, "set-password.json"), "w") as f:
        json.dump(req, f)
elif args[:2] == ["cognito-idp", "admin-create-user"] and sc.get("cognito_fail"):
    sys.exit(254)
sys.exit(0)
"""

# Stand-in scripts/smoke.sh: records its arguments and what reached its environment.
SMOKE = r"""#!PYTHON
import json, os, sys
env = {k: os.environ.get(k) for k in ("USERS_SMOKE_API_KEY", "USERS_SMOKE_TOKEN", "USERS_SMOKE_PASSWORD",
                                      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(["smoke.sh"] + sys.argv[1:] + [env]) + "\n")
sys.exit(int(os.environ.get("STUB_SMOKE_RC", "0")))
"""

# Stand-in scripts/package.sh: records its arguments and writes the zip it is asked for.
PACKAGE = r"""#!PYTHON
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(["package.sh"] + sys.argv[1:]) + "\n")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
arch = sys.argv[sys.argv.index("--arch") + 1] if "--arch" in sys.argv else "x86_64"
name = "lambda-arm64.zip" if arch == "arm64" else "lambda.zip"
os.makedirs(os.path.join(root, "build"), exist_ok=True)
open(os.path.join(root, "build", name), "wb").write(b"PK fake " + arch.encode())
"""


class DeployScripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="users-deploy-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state)
        self.log = os.path.join(self.tmp, "calls.jsonl")
        # A copy of the repository's scripts and infra; stand-ins for package.sh and smoke.sh.
        self.repo = os.path.join(self.tmp, "repo")
        for sub in ("scripts", "infra"):
            shutil.copytree(os.path.join(pkgcommon.REPO, sub), os.path.join(self.repo, sub))
        self.write_exe(os.path.join(self.repo, "scripts", "smoke.sh"), SMOKE)
        self.write_exe(os.path.join(self.repo, "scripts", "package.sh"), PACKAGE)
        os.makedirs(os.path.join(self.repo, "build"))
        for name in ("lambda.zip", "lambda-arm64.zip"):  # --no-package deploys what is there
            with open(os.path.join(self.repo, "build", name), "wb") as f:
                f.write(b"PK fake " + name.encode())
        # Only what the scripts need besides the stand-ins: a PATH without the real tools.
        for tool in ("bash", "env", "python3", "sed", "awk", "head", "cut", "mktemp", "rm", "cat",
                     "dirname", "date", "mkdir", "cp", "chmod", "grep", "mv", "sleep", "curl"):
            real = shutil.which(tool)
            if real:
                os.symlink(real, os.path.join(self.bin, tool))
        self.scenario = {"outputs": OUTPUTS}
        self.env = {}

    def write_exe(self, path, text):
        with open(path, "w") as f:
            f.write(text.replace("#!PYTHON", "#!" + shutil.which("python3")))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)

    def stub(self, *names):
        for n in names:
            self.write_exe(os.path.join(self.bin, n), STUB)

    def run_script(self, script, *args):
        env = {"PATH": self.bin, "HOME": self.tmp, "STUB_LOG": self.log, "STUB_STATE": self.state,
               "STUB_SCENARIO": json.dumps(self.scenario), "USERS_DEPLOY_POLL_SECONDS": "0.1"}
        env.update(self.env)
        return subprocess.run([os.path.join(self.repo, "scripts", script), *args], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def call(self, *prefix):
        found = [c for c in self.calls() if c[:len(prefix)] == list(prefix)]
        self.assertTrue(found, "no call %s in %s" % (prefix, self.calls()))
        return found[0]

    def smoke_call(self):
        found = [c for c in self.calls() if c[0] == "smoke.sh"]
        self.assertEqual(len(found), 1, self.calls())
        return found[0][1:-1], found[0][-1]

    def deploy(self, *args):
        return self.run_script("deploy.sh", "--stack", "users-test", "--region", "eu-west-1", "--no-package", *args)

    # ---- the deployment itself ----

    def test_deploy_with_sam(self):
        self.stub("sam", "aws")
        r = self.deploy("Auth=API_KEY", "AlarmEmail=ops@example.com")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        deploy = self.call("sam", "deploy")
        for flag, value in (("--template-file", "build/deploy/template.yaml"), ("--stack-name", "users-test"),
                            ("--region", "eu-west-1")):
            self.assertEqual(deploy[deploy.index(flag) + 1], value, deploy)
        caps = deploy[deploy.index("--capabilities") + 1:deploy.index("--capabilities") + 3]
        self.assertEqual(caps, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        po = deploy.index("--parameter-overrides")
        self.assertEqual(deploy[po + 1:po + 3], ["Auth=API_KEY", "AlarmEmail=ops@example.com"])
        self.assertNotIn("--guided", deploy)
        self.assertTrue("--resolve-s3" in deploy or "--config-file" in deploy, deploy)
        self.assertIn("API base URL: " + URL, r.stdout)
        self.assertIn(["aws", "sts", "get-caller-identity", "--region", "eu-west-1", "--query", "Arn", "--output", "text"],
                      self.calls())
        self.assertFalse([c for c in self.calls() if c[0] == "smoke.sh"], "smoke ran without --smoke")

    def test_deploy_with_the_aws_cli_only(self):
        self.stub("aws")
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package", "Auth=IAM")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--s3-bucket", r.stderr)
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package", "--s3-bucket", "my-artifacts", "Auth=IAM")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        pkg = self.call("aws", "cloudformation", "package")
        self.assertEqual(pkg[pkg.index("--s3-bucket") + 1], "my-artifacts")
        self.assertEqual(pkg[pkg.index("--template-file") + 1], "build/deploy/template.yaml")
        dep = self.call("aws", "cloudformation", "deploy")
        self.assertIn("CAPABILITY_AUTO_EXPAND", dep)
        self.assertEqual(dep[dep.index("--stack-name") + 1], "users-api")
        self.assertIn("API base URL: https://abc123", r.stdout)

    def test_refusals(self):
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "--no-package", "Auth=IAM")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("neither the AWS SAM CLI", r.stderr)
        self.stub("sam", "aws")
        r = self.run_script("deploy.sh", "--no-package")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no AWS Region", r.stderr)
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "bad key=1")
        self.assertNotEqual(r.returncode, 0)
        r = self.deploy("Architecture=sparc", "Auth=IAM")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Architecture must be x86_64 or arm64", r.stderr)
        self.assertFalse([c for c in self.calls() if c[:2] == ["sam", "deploy"]], "deployed despite a refusal")

    # ---- secure by default ----

    def assert_refused_public(self, r):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("refusing to deploy with Auth=NONE", r.stderr)
        self.assertIn("anyone on the internet", r.stderr)
        self.assertIn("--public", r.stderr)
        self.assertFalse([c for c in self.calls() if c[:2] == ["sam", "deploy"]], "deployed a public API")

    def test_auth_none_needs_public(self):
        self.stub("sam", "aws")
        self.assert_refused_public(self.deploy("Auth=NONE"))
        # Saved in samconfig.toml (and nothing given on the command line).
        with open(os.path.join(self.repo, "samconfig.toml"), "w") as f:
            f.write('version = 0.1\n[default.deploy.parameters]\nregion = "eu-west-1"\n'
                    'parameter_overrides = "TableName=\\"Users\\" Auth=\\"NONE\\""\n')
        self.assert_refused_public(self.deploy())
        # The existing stack's value, when neither says.
        os.unlink(os.path.join(self.repo, "samconfig.toml"))
        self.scenario["stack"] = {"Parameters": [{"ParameterKey": "Auth", "ParameterValue": "NONE"}], "Outputs": OUTPUTS}
        self.assert_refused_public(self.deploy("TableName=Users"))
        # With --public it goes ahead, loudly.
        r = self.deploy("--public", "Auth=NONE")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("WARNING: Auth=NONE with --public", r.stdout)
        self.call("sam", "deploy")

    def test_the_template_default_decides_when_nothing_else_does(self):
        # No Auth anywhere: the template's default applies (refused only if that is NONE).
        self.stub("sam", "aws")
        template = open(os.path.join(self.repo, "infra", "template.yaml")).read()
        default = re.search(r"^  Auth:\n(?:    .*\n)*?    Default: *'?(\w+)", template, re.M).group(1)
        r = self.deploy()
        self.assertIn("parameters: Auth=%s " % default, r.stdout)
        if default == "NONE":
            self.assert_refused_public(r)
        else:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Changed to IAM in the copy: deployed.
        with open(os.path.join(self.repo, "infra", "template.yaml"), "w") as f:
            f.write(re.sub(r"^(  Auth:\n(?:    .*\n)*?    Default: *)'?\w+'?", r"\1IAM", template, count=1, flags=re.M))
        r = self.deploy()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("parameters: Auth=IAM ", r.stdout)

    # ---- the architecture ----

    def staged_code_uri(self):
        text = open(os.path.join(self.repo, "build", "deploy", "template.yaml")).read()
        self.assertTrue(os.path.exists(os.path.join(self.repo, "build", "deploy", "openapi.yaml")))
        return re.findall(r"CodeUri: (\S+)", text)

    def test_architecture_selects_the_package(self):
        self.stub("sam", "aws")
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "Auth=IAM", "Architecture=arm64")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.call("package.sh"), ["package.sh", "--arch", "arm64"])
        self.assertEqual(self.staged_code_uri(), ["../lambda-arm64.zip"])
        # infra/ is left as it is.
        self.assertIn("CodeUri: ../build/lambda.zip", open(os.path.join(self.repo, "infra", "template.yaml")).read())
        os.unlink(self.log)
        r = self.run_script("deploy.sh", "--region", "eu-west-1", "Auth=IAM", "Architecture=x86_64")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.call("package.sh"), ["package.sh"])
        self.assertEqual(self.staged_code_uri(), ["../lambda.zip"])

    def test_architecture_from_samconfig_and_the_stack(self):
        self.stub("sam", "aws")
        with open(os.path.join(self.repo, "samconfig.toml"), "w") as f:
            f.write('version = 0.1\n[default.deploy.parameters]\nregion = "eu-west-1"\n'
                    'parameter_overrides = ["Auth=IAM", "Architecture=arm64"]\n')
        os.unlink(os.path.join(self.repo, "build", "lambda-arm64.zip"))
        r = self.deploy()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("build/lambda-arm64.zip is missing", r.stderr)  # --no-package, no arm64 zip
        r = self.run_script("deploy.sh", "--region", "eu-west-1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.call("package.sh"), ["package.sh", "--arch", "arm64"])
        self.assertEqual(self.staged_code_uri(), ["../lambda-arm64.zip"])
        # Given KEY=VALUE replace the saved list: the existing stack's Architecture counts then.
        os.unlink(self.log)
        self.scenario["stack"] = {"Parameters": [{"ParameterKey": "Architecture", "ParameterValue": "x86_64"}]}
        r = self.deploy("Auth=IAM")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.staged_code_uri(), ["../lambda.zip"])

    # ---- --smoke: the credential per Auth ----

    def with_outputs(self, **extra):
        self.scenario["outputs"] = OUTPUTS + [{"OutputKey": k, "OutputValue": v} for k, v in extra.items()]

    def test_smoke_none(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="NONE")
        r = self.deploy("--smoke", "--public", "Auth=NONE")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.smoke_call()[0], [URL])

    def test_smoke_api_key(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="API_KEY", ApiKeyId="k7x9", UsagePlanId="up1")
        self.scenario["api_key_value"] = "SecretKeyValue123"
        r = self.deploy("--smoke", "Auth=API_KEY")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        get = self.call("aws", "apigateway", "get-api-key")
        self.assertEqual(get[get.index("--api-key") + 1], "k7x9")
        self.assertIn("--include-value", get)
        args, env = self.smoke_call()
        self.assertEqual(args, ["--api-key", "env:USERS_SMOKE_API_KEY", URL])
        self.assertEqual(env["USERS_SMOKE_API_KEY"], "SecretKeyValue123")
        self.assertNotIn("SecretKeyValue123", r.stdout + r.stderr)

    def test_smoke_iam(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="IAM")
        # Credentials in the environment: used as they are.
        self.env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"}
        r = self.deploy("--smoke", "Auth=IAM")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        args, env = self.smoke_call()
        self.assertEqual(args, ["--iam", "--region", "eu-west-1", URL])
        self.assertEqual((env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), ("AKIAENV", "envsecret"))
        self.assertFalse([c for c in self.calls() if c[1:3] == ["configure", "export-credentials"]])
        # Not in the environment (a profile, SSO): exported by the AWS CLI.
        os.unlink(self.log)
        self.env = {}
        self.scenario["export_credentials"] = ("export AWS_ACCESS_KEY_ID=ASIAEXPORTED\n"
                                               "export AWS_SECRET_ACCESS_KEY=exported/secret+x\n"
                                               "export AWS_SESSION_TOKEN=tok==\n"
                                               "export AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z")
        r = self.deploy("--smoke", "Auth=IAM")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        exp = self.call("aws", "configure", "export-credentials")
        self.assertEqual(exp[exp.index("--format") + 1], "env")
        _, env = self.smoke_call()
        self.assertEqual((env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]),
                         ("ASIAEXPORTED", "exported/secret+x", "tok=="))

    def test_smoke_cognito_with_the_stacks_pool(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="COGNITO", UserPoolId="eu-west-1_Pool", UserPoolClientId="client123")
        for smoke_rc in (0, 1):  # the temporary user is deleted on success and on failure
            if os.path.exists(self.log):
                os.unlink(self.log)
            self.env = {"STUB_SMOKE_RC": str(smoke_rc)}
            r = self.deploy("--smoke", "Auth=COGNITO")
            self.assertEqual(r.returncode, smoke_rc, r.stdout + r.stderr)
            order = [c[0] if c[0] == "smoke.sh" else " ".join(c[1:3]) for c in self.calls()
                     if c[0] == "smoke.sh" or c[1] == "cognito-idp"]
            self.assertEqual(order, ["cognito-idp admin-create-user", "cognito-idp admin-set-user-password",
                                     "smoke.sh", "cognito-idp admin-delete-user"])
            create = self.call("aws", "cognito-idp", "admin-create-user")
            user = create[create.index("--username") + 1]
            self.assertRegex(user, r"^smoke-[0-9a-f]{16}$")
            self.assertEqual(create[create.index("--user-pool-id") + 1], "eu-west-1_Pool")
            self.assertEqual(create[create.index("--message-action") + 1], "SUPPRESS")
            delete = self.call("aws", "cognito-idp", "admin-delete-user")
            self.assertEqual(delete[delete.index("--username") + 1], user)
            pw = json.load(open(os.path.join(self.state, "set-password.json")))
            self.assertEqual((pw["UserPoolId"], pw["Username"], pw["Permanent"]), ("eu-west-1_Pool", user, True))
            self.assertGreaterEqual(len(pw["Password"]), 20)
            self.assertTrue(re.search(r"[a-z]", pw["Password"]) and re.search(r"[A-Z]", pw["Password"])
                            and re.search(r"[0-9]", pw["Password"]) and re.search(r"[^A-Za-z0-9]", pw["Password"]))
            args, env = self.smoke_call()
            self.assertEqual(args, ["--cognito-client-id", "client123", "--username", user,
                                    "--password", "env:USERS_SMOKE_PASSWORD", "--region", "eu-west-1", URL])
            self.assertEqual(env["USERS_SMOKE_PASSWORD"], pw["Password"])
            argv = [c if c[0] != "smoke.sh" else c[:-1] for c in self.calls()]
            self.assertNotIn(pw["Password"], json.dumps(argv))  # never on a command line
            self.assertIn("deleting the temporary user " + user, r.stdout)

    def test_smoke_cognito_with_an_existing_pool(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="COGNITO")
        pool = "CognitoUserPoolArn=arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Theirs"
        r = self.deploy("--smoke", "Auth=COGNITO", pool)
        self.assertEqual(r.returncode, 1)
        self.assertIn("USERS_SMOKE_TOKEN", r.stderr)
        self.assertFalse([c for c in self.calls() if c[:2] == ["sam", "deploy"]], "deployed before refusing")
        self.env = {"USERS_SMOKE_TOKEN": "eyJ.the.token"}
        r = self.deploy("--smoke", "Auth=COGNITO", pool)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        args, env = self.smoke_call()
        self.assertEqual(args, ["--bearer", "env:USERS_SMOKE_TOKEN", URL])
        self.assertEqual(env["USERS_SMOKE_TOKEN"], "eyJ.the.token")
        self.assertFalse([c for c in self.calls() if c[1:2] == ["cognito-idp"]])

    def test_smoke_failure_is_the_exit_status(self):
        self.stub("sam", "aws")
        self.with_outputs(Auth="IAM")
        self.env = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret", "STUB_SMOKE_RC": "1"}
        r = self.deploy("--smoke", "Auth=IAM")
        self.assertEqual(r.returncode, 1)

    # ---- gradual deployments ----

    def existing_stack(self):
        self.scenario["stack"] = {"Parameters": [{"ParameterKey": "Auth", "ParameterValue": "IAM"}],
                                  "Outputs": OUTPUTS + [{"OutputKey": "DeploymentApplication", "OutputValue": "users-test-app"},
                                                        {"OutputKey": "DeploymentGroup", "OutputValue": "users-test-group"}]}

    def test_codedeploy_progress(self):
        self.stub("sam", "aws")
        self.existing_stack()
        self.scenario["deploy_seconds"] = 60
        self.scenario["deployments"] = {"d-OK1": [["Created", None, ""], ["InProgress", 10.0, ""],
                                                  ["InProgress", 10.0, ""], ["InProgress", 100.0, ""],
                                                  ["Succeeded", 100.0, ""]]}
        r = self.deploy()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lst = self.call("aws", "deploy", "list-deployments")
        self.assertEqual(lst[lst.index("--application-name") + 1], "users-test-app")
        self.assertEqual(lst[lst.index("--deployment-group-name") + 1], "users-test-group")
        self.assertRegex(lst[lst.index("--create-time-range") + 1], r"^start=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        lines = re.findall(r"==> CodeDeploy d-OK1: (.*)", r.stdout)
        self.assertEqual(lines, ["Created", "InProgress, 10% of the traffic on the new version",
                                 "InProgress, 100% of the traffic on the new version",
                                 "Succeeded, 100% of the traffic on the new version"], r.stdout)

    def test_codedeploy_rollback_fails_the_deployment(self):
        self.stub("sam", "aws")
        self.existing_stack()
        self.scenario.update(deploy_seconds=60, deploy_rc=1, stack_status="UPDATE_ROLLBACK_COMPLETE")
        self.scenario["deployments"] = {"d-BAD": [["InProgress", 10.0, ""],
                                                  ["Stopped", 0.0, "One or more alarms have been activated: users-test-FunctionErrorRateAlarm"]]}
        r = self.deploy()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("CodeDeploy rolled back deployment d-BAD", r.stderr)
        self.assertIn("FunctionErrorRateAlarm", r.stderr)
        self.assertNotIn("API base URL", r.stdout)
        # Even when the deployment tool itself says all is well, a rollback is a failure.
        os.unlink(self.log)
        for f in os.listdir(self.state):
            os.unlink(os.path.join(self.state, f))
        self.scenario["deploy_rc"] = 0
        r = self.deploy()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("CodeDeploy rolled back deployment d-BAD", r.stderr)

    def test_stack_update_failure(self):
        self.stub("sam", "aws")
        self.existing_stack()
        self.scenario.update(deploy_rc=1, stack_status="UPDATE_ROLLBACK_COMPLETE")
        r = self.deploy()
        self.assertEqual(r.returncode, 1)
        self.assertIn("the deployment failed (exit 1, stack status UPDATE_ROLLBACK_COMPLETE)", r.stderr)
        # A new stack: nothing to follow, the failure still fails.
        del self.scenario["stack"]
        r = self.deploy("Auth=IAM")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no CodeDeploy deployment to follow", r.stdout)
        self.assertIn("the deployment failed", r.stderr)

    # ---- destroy ----

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
    return pkgcommon.run(__name__)


if __name__ == "__main__":
    sys.exit(main())
