#!/usr/bin/env python3
"""scripts/smoke.sh in every auth mode, against stand-ins for API Gateway's checks.

One local stack (scripts/run.sh --in-memory: the real bootstrap and DynamoDB Local) behind
stand-in gateways (auth_gateway.py) that check the credential as API Gateway would — an API
key, a bearer JWT (HS256 with a test secret, in place of Cognito's keys), a SigV4 signature
recomputed with hmac/hashlib — and refuse with 401/403 otherwise. For each mode, smoke.sh:

  - passes with the right credential, and every request but the one deliberately anonymous
    step carried it (the gateway counts exactly one refusal, a missing credential);
  - fails without a credential, and with a wrong one;
and --cognito-client-id gets its token from a stand-in `aws` (cognito-idp initiate-auth),
which sees the password only in its --cli-input-json file. A credential given to a stage that
does not check it fails the "credential matters" step. The SigV4 verifier itself is checked
first against botocore's signed requests (testdata/sigv4/botocore).

    test_smoke_auth.py --repo . --bootstrap build/release/bootstrap --gateway build/release/users-gateway
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "package"))
sys.dont_write_bytecode = True
import auth_gateway  # noqa: E402
import pkgcommon  # noqa: E402

ARGS = None
STACK = {}
API_KEY = "k3yForSmoke0123456789abcdefghij"
JWT_SECRET = b"test-jwt-secret-not-cognito"
CLIENT_ID = "5example0client0id0abcdef"
AKID, SECRET, TOKEN = "AKIASMOKETEST0000001", "smoke/Secret+Key0123456789abcdefghijkl", "FwoGZXIvYXdzEXAMPLEtoken=="
PASSWORD = "Corr3ct horse \"battery\" staple!"

AWS_STUB = r"""#!PYTHON
import json, os, sys
sys.path.insert(0, os.environ["STUB_GATEWAY_DIR"])
import auth_gateway
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as f:
    f.write(json.dumps(args) + "\n")
if args[:2] != ["cognito-idp", "initiate-auth"]:
    sys.exit("unexpected call: %r" % args)
req = json.load(open(args[args.index("--cli-input-json") + 1][len("file://"):]))
assert args[args.index("--query") + 1] == "AuthenticationResult.IdToken", args
if (req["AuthFlow"], req["ClientId"]) != ("USER_PASSWORD_AUTH", os.environ["STUB_CLIENT_ID"]):
    sys.exit("An error occurred (ResourceNotFoundException): bad flow or client")
p = req["AuthParameters"]
if p["USERNAME"] != "smoke-user" or p["PASSWORD"] != os.environ["STUB_PASSWORD"]:
    print("An error occurred (NotAuthorizedException) when calling the InitiateAuth operation: "
          "Incorrect username or password.", file=sys.stderr)
    sys.exit(254)
print(auth_gateway.id_token(os.environ["STUB_SECRET"].encode(), req["ClientId"], p["USERNAME"]))
"""


def start_stack():
    port = auth_gateway.free_port()
    log = tempfile.NamedTemporaryFile(prefix="smoke-auth-run-", suffix=".log", delete=False)
    env = dict(os.environ, USERS_SKIP_DEPS="1", USERS_SKIP_BUILD="1",
               USERS_BOOTSTRAP=ARGS.bootstrap, USERS_GATEWAY=ARGS.gateway)
    proc = subprocess.Popen([os.path.join(ARGS.repo, "scripts", "run.sh"), "--port", str(port),
                             "--in-memory", "--instances", "2"],
                            cwd=ARGS.repo, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    STACK.update(proc=proc, port=port, log=log.name)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("run.sh exited %s:\n%s" % (proc.returncode, open(log.name).read()[-4000:]))
        if "Users API: http://127.0.0.1:%d" % port in open(log.name, errors="replace").read():
            with urllib.request.urlopen("http://127.0.0.1:%d/users?limit=1" % port, timeout=30) as r:
                if r.status == 200:
                    return
        time.sleep(0.2)
    raise AssertionError("the local stack did not come up:\n" + open(log.name).read()[-4000:])


def stop_stack():
    proc = STACK.get("proc")
    if proc is None:
        return
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)  # run.sh stops everything it started
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    os.unlink(STACK["log"])
    ddb_log = os.path.join(ARGS.repo, ".local", "dynamodb-%d.log" % STACK["port"])
    if os.path.exists(ddb_log):
        os.unlink(ddb_log)


class SigV4Verifier(unittest.TestCase):
    """The stand-in's SigV4 check agrees with botocore's signed requests, and rejects a
    request changed after signing."""

    def load(self, case):
        d = os.path.join(ARGS.testdata, "sigv4", "botocore", case)
        raw = open(os.path.join(d, case + ".sreq"), encoding="utf-8").read()
        head, _, body = raw.partition("\n\n")
        lines = head.split("\n")
        method, rest = lines[0].split(" ", 1)
        headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and headers:
                headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
                continue
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        return method, rest.rsplit(" ", 1)[0], headers, body.encode()

    def verify(self, method, target, headers, body, **kw):
        return auth_gateway.verify_sigv4(
            method, target, headers, body, {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
            "us-east-1", "service", now=datetime.datetime(2015, 8, 30, 12, 36, tzinfo=datetime.timezone.utc), **kw)

    def test_botocore_vectors(self):
        # get-vanilla-with-session-token's .sreq repeats get-vanilla's signature (not one over
        # the token), so it is left out.
        cases = sorted(c for c in os.listdir(os.path.join(ARGS.testdata, "sigv4", "botocore"))
                       if c.startswith(("get-", "post-")) and c != "get-vanilla-with-session-token"
                       and os.path.exists(os.path.join(ARGS.testdata, "sigv4", "botocore", c, c + ".sreq")))
        self.assertGreaterEqual(len(cases), 20, cases)
        for case in cases:
            method, target, headers, body = self.load(case)
            self.assertEqual(self.verify(method, target, headers, body), (True, ""), case)

    def test_tampering_is_caught(self):
        method, target, headers, body = self.load("post-vanilla-query")
        self.assertFalse(self.verify(method, target.replace("value1", "value2"), headers, body)[0])
        self.assertFalse(self.verify("PUT", target, headers, body)[0])
        self.assertFalse(self.verify(method, target, headers, b"x")[0])
        later = [(n, "20150830T123601Z" if n.lower() == "x-amz-date" else v) for n, v in headers]
        self.assertFalse(self.verify(method, target, later, body)[0])
        self.assertEqual(self.verify(method, target, [h for h in headers if h[0] != "Authorization"], body),
                         (False, "missing"))
        self.assertFalse(self.verify(method, target, headers, body,
                                     session_tokens={"AKIDEXAMPLE": "needed"})[0])
        r = auth_gateway.verify_sigv4(method, target, headers, body, {"AKIDEXAMPLE": "wrong"},
                                      "us-east-1", "service")
        self.assertEqual(r, (False, "signature mismatch"))
        r = auth_gateway.verify_sigv4(method, target, headers, body, {"AKIDEXAMPLE": "x"}, "eu-west-1", "service")
        self.assertFalse(r[0])
        self.assertIn("scope", r[1])


class SmokeAuthModes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="smoke-auth-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.gateways = []

    def tearDown(self):
        for gw in self.gateways:
            gw.close()

    def gateway(self, mode, **kw):
        gw = auth_gateway.AuthGateway(mode, STACK["port"], **kw)
        self.gateways.append(gw)
        return gw

    def smoke(self, url, *flags, env=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        e.update(env or {})
        return subprocess.run([os.path.join(ARGS.repo, "scripts", "smoke.sh"), *flags, url],
                              env=e, capture_output=True, text=True, timeout=300)

    def assert_passes(self, gw, r):
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-2000:])
        self.assertRegex(r.stdout, r"smoke: all \d+ steps passed")
        self.assertIn("without the credential is refused", r.stdout)
        # Exactly one refusal: the deliberately anonymous GET; every other request carried it.
        self.assertEqual([(s, why, m) for s, why, m, _ in gw.refused], [(gw_status(gw), "missing", "GET")], gw.refused)
        self.assertGreaterEqual(gw.passed, 20)

    def assert_refused(self, gw, r, reason):
        self.assertEqual(r.returncode, 1, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertIn("FAILED at step 1", r.stderr)
        self.assertIn("HTTP %d" % gw_status(gw), r.stderr)
        self.assertEqual(gw.passed, 0)
        self.assertEqual(gw.refused[0][1], reason, gw.refused)

    def test_api_key(self):
        gw = self.gateway("api_key", api_key=API_KEY)
        self.assert_passes(gw, self.smoke(gw.url, "--api-key", API_KEY))
        gw = self.gateway("api_key", api_key=API_KEY)
        self.assert_refused(gw, self.smoke(gw.url), "missing")
        gw = self.gateway("api_key", api_key=API_KEY)
        self.assert_refused(gw, self.smoke(gw.url, "--api-key", API_KEY[:-1] + "X"), "wrong API key")
        # env:NAME keeps the key off the command line.
        gw = self.gateway("api_key", api_key=API_KEY)
        self.assert_passes(gw, self.smoke(gw.url, "--api-key", "env:MY_KEY", env={"MY_KEY": API_KEY}))
        r = self.smoke(gw.url, "--api-key", "env:UNSET_KEY")
        self.assertEqual(r.returncode, 2)
        self.assertIn("UNSET_KEY is not set", r.stderr)

    def test_bearer(self):
        good = auth_gateway.id_token(JWT_SECRET, CLIENT_ID)
        gw = self.gateway("bearer", jwt_secret=JWT_SECRET, client_id=CLIENT_ID)
        self.assert_passes(gw, self.smoke(gw.url, "--bearer", good))
        for token, reason in ((None, "missing"),
                              (auth_gateway.id_token(b"another key", CLIENT_ID), "bad signature"),
                              (auth_gateway.id_token(JWT_SECRET, CLIENT_ID, lifetime=-10), "expired"),
                              (auth_gateway.id_token(JWT_SECRET, "another-client"), "not an ID token of this app client")):
            gw = self.gateway("bearer", jwt_secret=JWT_SECRET, client_id=CLIENT_ID)
            self.assert_refused(gw, self.smoke(gw.url, *(("--bearer", token) if token else ())), reason)

    def test_iam(self):
        creds = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
        gw = self.gateway("iam", region="eu-west-1", secrets={AKID: SECRET}, session_tokens={AKID: TOKEN})
        r = self.smoke(gw.url, "--iam", "--region", "eu-west-1", env=creds)
        self.assert_passes(gw, r)
        self.assertNotIn(SECRET, r.stdout + r.stderr)
        # Without credentials in the environment: refused before any request.
        r = self.smoke(gw.url, "--iam", "--region", "eu-west-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("AWS_ACCESS_KEY_ID", r.stderr)
        for flags, env, reason in (((), creds, "missing"),
                                   (("--iam", "--region", "eu-west-1"), dict(creds, AWS_SECRET_ACCESS_KEY=SECRET + "x"),
                                    "signature mismatch"),
                                   (("--iam", "--region", "eu-west-2"), creds, "wrong scope eu-west-2/execute-api/aws4_request"),
                                   (("--iam", "--region", "eu-west-1"), dict(creds, AWS_SESSION_TOKEN="stale"),
                                    "missing or wrong security token")):
            gw = self.gateway("iam", region="eu-west-1", secrets={AKID: SECRET}, session_tokens={AKID: TOKEN})
            self.assert_refused(gw, self.smoke(gw.url, *flags, env=env), reason)

    def test_iam_region_from_the_url(self):
        # An execute-api URL names its Region: smoke.sh signs for it without --region. The
        # stand-in cannot answer for that host, so curl goes to a closed proxy port and fails;
        # the first line says which Region it signed for.
        creds = {"AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                 "https_proxy": "http://127.0.0.1:1", "HTTPS_PROXY": "http://127.0.0.1:1"}
        r = self.smoke("https://abc123.execute-api.ap-south-2.amazonaws.com/prod", "--iam", env=creds)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("with SigV4 (execute-api, ap-south-2,", r.stdout)
        r = self.smoke("https://abc123.execute-api.ap-south-2.amazonaws.com/prod", "--iam")
        self.assertEqual(r.returncode, 2)
        self.assertIn("AWS_ACCESS_KEY_ID", r.stderr)
        r = self.smoke("http://127.0.0.1:1/prod", "--iam", env=creds)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs the Region", r.stderr)

    def cognito_env(self, password):
        bindir = os.path.join(self.tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        aws = os.path.join(bindir, "aws")
        with open(aws, "w") as f:
            f.write(AWS_STUB.replace("#!PYTHON", "#!" + sys.executable))
        os.chmod(aws, os.stat(aws).st_mode | stat.S_IXUSR)
        self.log = os.path.join(self.tmp, "aws.jsonl")
        return {"PATH": bindir + os.pathsep + os.environ["PATH"], "STUB_LOG": self.log,
                "STUB_GATEWAY_DIR": HERE, "STUB_CLIENT_ID": CLIENT_ID, "STUB_PASSWORD": PASSWORD,
                "STUB_SECRET": JWT_SECRET.decode(), "SMOKE_PW": password}

    def test_cognito_client(self):
        gw = self.gateway("bearer", jwt_secret=JWT_SECRET, client_id=CLIENT_ID)
        flags = ("--cognito-client-id", CLIENT_ID, "--username", "smoke-user", "--password", "env:SMOKE_PW",
                 "--region", "us-east-1")
        r = self.smoke(gw.url, *flags, env=self.cognito_env(PASSWORD))
        self.assert_passes(gw, r)
        calls = [json.loads(line) for line in open(self.log)]
        self.assertEqual(len(calls), 1, calls)
        self.assertEqual(calls[0][:2], ["cognito-idp", "initiate-auth"])
        self.assertEqual(calls[0][calls[0].index("--region") + 1], "us-east-1")
        self.assertNotIn(PASSWORD, " ".join(calls[0]))
        # A wrong password: no token, the reason, no request sent.
        gw = self.gateway("bearer", jwt_secret=JWT_SECRET, client_id=CLIENT_ID)
        r = self.smoke(gw.url, *flags, env=self.cognito_env("wrong"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("NotAuthorizedException", r.stderr)
        self.assertEqual((gw.passed, gw.refused), (0, []))
        r = self.smoke(gw.url, "--cognito-client-id", CLIENT_ID, "--region", "us-east-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs --username and --password", r.stderr)

    def test_a_credential_that_is_not_checked_fails(self):
        gw = self.gateway("none")
        r = self.smoke(gw.url)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertNotIn("without the credential", r.stdout)
        gw = self.gateway("none")
        r = self.smoke(gw.url, "--api-key", API_KEY)
        self.assertEqual(r.returncode, 1)
        self.assertIn("without the credential is refused", r.stdout)
        self.assertIn("the credential is not checked", r.stderr)


def gw_status(gw):
    return 401 if gw.mode == "bearer" else 403


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--repo", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--gateway", required=True)
    p.add_argument("--testdata", default=os.environ.get("USERS_TESTDATA", ""))
    ARGS = p.parse_args()
    for path in (ARGS.bootstrap, ARGS.gateway, os.path.join(ARGS.testdata, "sigv4", "botocore")):
        if not os.path.exists(path):
            print("test_smoke_auth: missing %s" % path, file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    try:
        start_stack()
        return pkgcommon.run(__name__)
    finally:
        stop_stack()


if __name__ == "__main__":
    sys.exit(main())
