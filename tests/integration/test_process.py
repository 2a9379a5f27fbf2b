"""The process: init errors, the invocation log lines, what never reaches the logs, and the
Runtime API connection."""

import json
import time
import unittest
import uuid

import os

from harness import CONFIG, SECRET_ACCESS_KEY, Bootstrap, BootstrapCase, RuntimeAPI, bootstrap_wrapper, strict_json


class InitErrorTest(unittest.TestCase):
    def start(self, env):
        rt = RuntimeAPI()
        self.addCleanup(rt.stop)
        boot = Bootstrap(rt, env_overrides=env, name="init-error")
        self.addCleanup(boot.stop)
        return rt, boot

    def check_init_error(self, env, mentions):
        rt, boot = self.start(env)
        rc = boot.wait_exit(10)
        self.assertIsNotNone(rc, "bootstrap did not exit after its init error\n" + boot.output_tail())
        self.assertNotEqual(rc, 0, "init failure must exit non-zero\n" + boot.output_tail())
        self.assertEqual(len(rt.init_errors), 1, "expected one POST /runtime/init/error\n" + boot.output_tail())
        headers, body = rt.init_errors[0]
        doc = strict_json(body)
        self.assertIsInstance(doc.get("errorType"), str, doc)
        self.assertTrue(doc["errorType"], doc)
        self.assertIsInstance(doc.get("errorMessage"), str, doc)
        self.assertIn(mentions, doc["errorMessage"], doc)
        self.assertTrue(headers.get("lambda-runtime-function-error-type"), headers)
        self.assertEqual(rt.next_calls, 0, "asked for an invocation after its init error")
        self.assertEqual(rt.violations, [])

    def test_missing_users_table(self):
        self.check_init_error({"USERS_TABLE": None}, "USERS_TABLE")

    def test_empty_users_table(self):
        self.check_init_error({"USERS_TABLE": ""}, "USERS_TABLE")

    def test_plain_http_endpoint_off_loopback_is_an_init_error(self):
        # Nothing is sent: the endpoint is refused while the configuration is read.
        for endpoint in ("http://10.1.2.3:8000", "http://dynamodb.eu-west-1.amazonaws.com"):
            with self.subTest(endpoint=endpoint):
                self.check_init_error({"AWS_ENDPOINT_URL_DYNAMODB": endpoint}, "USERS_ALLOW_HTTP_ENDPOINT")

    def test_plain_http_opt_in_is_named_at_start(self):
        # Opted in, the process starts and names the override in one WARN line; no invocation is
        # sent, so nothing ever travels to that address.
        rt, boot = self.start({"AWS_ENDPOINT_URL_DYNAMODB": "http://10.1.2.3:8000",
                               "USERS_ALLOW_HTTP_ENDPOINT": "1"})
        deadline = time.monotonic() + 10
        while rt.next_calls == 0 and boot.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(rt.init_errors, [], boot.output_tail())
        self.assertGreaterEqual(rt.next_calls, 1, boot.output_tail())
        warn = [json.loads(l) for l in boot.stdout().decode().splitlines() if l.strip()]
        warn = [l for l in warn if l.get("level") == "WARN"]
        self.assertEqual(len(warn), 1, warn)
        self.assertIn("http://10.1.2.3:8000", warn[0]["message"])

    def test_missing_runtime_api_exits_non_zero(self):
        rt, boot = self.start({"AWS_LAMBDA_RUNTIME_API": None})
        rc = boot.wait_exit(10)
        self.assertIsNotNone(rc, "bootstrap kept running without AWS_LAMBDA_RUNTIME_API")
        self.assertNotEqual(rc, 0)


class LogTest(BootstrapCase):
    def test_one_line_per_invocation(self):
        email = "log.%s@example.com" % uuid.uuid4().hex[:12]
        name = "Logged Person %s" % uuid.uuid4().hex[:6]
        c = self.api("POST", "/users", {"name": name, "email": email, "age": 50})
        self.assertEqual(c.status, 201, c)
        uid = c.json["userId"]
        steps = [
            (c, "POST", "/users", 1),
            (self.api("GET", "/users/" + uid), "GET", "/users/{userId}", 1),
            (self.api("GET", "/users", query={"limit": "5"}), "GET", "/users", 1),
            (self.api("PUT", "/users/" + uid, {"age": 51}), "PUT", "/users/{userId}", 1),
            (self.api("PATCH", "/users/" + uid, {"age": 52}, headers={"If-Match": '"1"'}), "PATCH", "/users/{userId}", 1),
            (self.api("PUT", "/users/" + str(uuid.uuid4()), {"age": 1}), "PUT", "/users/{userId}", 1),
            (self.api("PUT", "/users/" + str(uuid.uuid4()), {"age": 1}, headers={"If-Match": '"3"'}), "PUT", "/users/{userId}", 1),
            (self.api("GET", "/users/" + uid.upper()), "GET", "/users/{userId}", 0),
            (self.api("POST", "/users", {"name": "", "email": email}), "POST", "/users", 0),
            (self.api("POST", "/users", "x", headers={"Content-Type": "text/plain"}), "POST", "/users", 0),
            (self.api("GET", "/users", query={"limit": "0"}), "GET", "/users", 0),
            (self.api("OPTIONS", "/users"), "OPTIONS", "/users", 0),
            (self.api("HEAD", "/users"), "HEAD", "/users", 0),
            (self.api("GET", "/nowhere"), "GET", None, 0),
            (self.api("DELETE", "/users/" + uid, headers={"If-Match": '"9"'}), "DELETE", "/users/{userId}", 1),
            # A delete reads, then releases the address in its transaction: two requests.
            (self.api("DELETE", "/users/" + uid), "DELETE", "/users/{userId}", 2),
        ]
        expected_status = [201, 200, 200, 200, 412, 404, 404, 404, 400, 415, 400, 204, 405, 404, 412, 200]
        self.assertEqual([s[0].status for s in steps], expected_status)
        for (r, method, route, attempts) in steps:
            with self.subTest(method=method, path=r.event.get("path", r.event.get("rawPath")),
                              status=r.status):
                lines = self.invocation_log(r)
                self.assertEqual(len(lines), 1, "expected one invocation line, got %r" % lines)
                line = lines[0]
                self.assertEqual(line.get("method"), method, line)
                if route is None:
                    self.assertIn(line.get("route"), (None, ""), line)
                else:
                    self.assertEqual(line.get("route"), route, line)
                self.assertEqual(line.get("status"), r.status, line)
                d = line.get("durationMs")
                self.assertIsInstance(d, (int, float), line)
                self.assertTrue(0 <= d < 10000, line)
                self.assertEqual(line.get("ddbAttempts"), attempts, line)
                self.assertIsInstance(line.get("timestamp"), str, line)
                self.assertEqual(line.get("level"), "INFO", line)

        out, err = self.boot.stdout(), self.boot.stderr()
        for label, data in (("stdout", out), ("stderr", err)):
            self.assertNotIn(email.encode(), data, "the email address reached %s" % label)
            self.assertNotIn(name.encode(), data, "the request body (name) reached %s" % label)
            self.assertNotIn(SECRET_ACCESS_KEY.encode(), data, "the secret key reached %s" % label)
        for raw in out.decode("utf-8", "replace").splitlines():
            if raw.strip():
                with self.subTest(line=raw[:100]):
                    obj = json.loads(raw)
                    self.assertIsInstance(obj, dict)
                    self.assertIn(obj.get("level"), ("DEBUG", "INFO", "WARN", "ERROR"), obj)

    def test_override_is_named_once_at_start(self):
        lines = [json.loads(l) for l in self.boot.stdout().decode().splitlines() if l.strip()]
        self.assertEqual(lines[0].get("level"), "WARN", lines[0])
        self.assertIn(CONFIG.ddb.endpoint, lines[0].get("message"), lines[0])
        self.assertEqual(sum(1 for l in lines if l.get("level") == "WARN"), 1)

    def test_runtime_connection_is_reused(self):
        before = self.runtime.connections
        for _ in range(20):
            r = self.api("GET", "/users/" + str(uuid.uuid4()))
            self.assertEqual(r.status, 404, r)
        opened = self.runtime.connections - before
        self.assertLessEqual(opened, 4, "%d new Runtime API connections for 20 invocations" % opened)


class SecretsTest(BootstrapCase):
    """The secret key and the session token leave the environment once read: not in environ,
    not in /proc/<pid>/environ (the bytes there are wiped too), never in the logs."""

    TOKEN = "itestToken" + uuid.uuid4().hex
    ENV = {"AWS_SESSION_TOKEN": TOKEN}

    def test_secrets_are_gone_from_the_environment(self):
        r = self.api("GET", "/users/" + str(uuid.uuid4()))
        self.assertEqual(r.status, 404, r)
        if bootstrap_wrapper():
            self.skipTest("under a wrapper, /proc/<pid>/environ is the wrapper's")
        with open("/proc/%d/environ" % self.boot.proc.pid, "rb") as f:
            environ = f.read()
        self.assertIn(b"AWS_ACCESS_KEY_ID=", environ)  # the key id is not a secret
        self.assertNotIn(SECRET_ACCESS_KEY.encode(), environ)
        self.assertNotIn(self.TOKEN.encode(), environ)
        # The kernel shows the block the process started with: the names stay, the values
        # are zeroed where they stood.
        self.assertIn(b"AWS_SECRET_ACCESS_KEY=" + b"\0" * len(SECRET_ACCESS_KEY), environ)
        self.assertIn(b"AWS_SESSION_TOKEN=" + b"\0" * len(self.TOKEN), environ)
        for data in (self.boot.stdout(), self.boot.stderr()):
            self.assertNotIn(SECRET_ACCESS_KEY.encode(), data)
            self.assertNotIn(self.TOKEN.encode(), data)
