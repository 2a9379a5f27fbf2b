"""Shared helpers for the local gateway's process-level tests (Python 3 stdlib only)."""
import argparse
import contextlib
import http.client
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stat(pid):
    """(ppid, pgid) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2])


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children(pid):
    return sorted(p for p in all_pids() if (proc_stat(p) or (None,))[0] == pid)


def descendants(pid):
    """Every live process below pid (children, their children, ...)."""
    found, todo = [], [pid]
    table = {p: proc_stat(p) for p in all_pids()}
    while todo:
        parent = todo.pop()
        for p, st in table.items():
            if st and st[0] == parent:
                found.append(p)
                todo.append(p)
    return sorted(found)


def in_group(pgid):
    return sorted(p for p in all_pids() if (proc_stat(p) or (None, None))[1] == pgid)


def alive(pid):
    st = proc_stat(pid)
    if st is None:
        return False
    try:
        with open("/proc/%d/status" % pid) as f:
            return "State:\tZ" not in f.read()
    except OSError:
        return False


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


def request(port, method, path, headers=None, body=None, timeout=60):
    """(status, headers as a list of (name, value), body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    return values[-1] if values else None


class Gateway:
    """users-gateway on a free port, its output in a log file (stdout in a second one when
    split_stdout: output() is then stderr alone)."""

    def __init__(self, gateway, bootstrap, *flags, env=None, split_stdout=False):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".log", delete=False)
        self.out = None
        if split_stdout:
            self.out = tempfile.NamedTemporaryFile(prefix="gateway-", suffix=".out", delete=False)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [gateway, "--port", str(self.port), "--bootstrap", bootstrap] + list(flags),
            stdout=self.out or self.log, stderr=self.log if self.out else subprocess.STDOUT,
            env=full_env)
        wait_until(self._listening, 15, "the gateway to listen on %d" % self.port)

    def _listening(self):
        if self.proc.poll() is not None:
            raise AssertionError("users-gateway exited with %s:\n%s" % (self.proc.returncode,
                                                                          self.output()))
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stdout(self):
        """What the gateway wrote to stdout (split_stdout only), as bytes."""
        with open(self.out.name, "rb") as f:
            return f.read()

    def request(self, method, path, headers=None, body=None, timeout=60):
        return request(self.port, method, path, headers, body, timeout)

    def bootstraps(self):
        return children(self.proc.pid)

    def stop(self):
        """SIGTERM; the gateway must exit 0 and leave no bootstrap behind."""
        kids = self.bootstraps()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("users-gateway did not stop within 15 s of SIGTERM")
        if rc != 0:
            raise AssertionError("users-gateway exited %s after SIGTERM:\n%s" % (rc,
                                                                                 self.output()[-3000:]))
        left = [p for p in kids if alive(p)] + in_group_any(kids)
        if left:
            raise AssertionError("bootstrap processes left after the gateway stopped: %s" % left)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        os.unlink(self.log.name)
        if self.out:
            os.unlink(self.out.name)


def in_group_any(pgids):
    return [p for g in pgids for p in in_group(g)]


def run_tests(tests):
    """Runs each (name, function); prints a line per test; exits 1 when one failed."""
    failed = 0
    for name, fn in tests:
        start = time.monotonic()
        try:
            fn()
            print("ok    %-45s %.1fs" % (name, time.monotonic() - start), flush=True)
        except Exception as e:  # noqa: BLE001 — every failure is reported the same way
            failed += 1
            print("FAIL  %-45s %s: %s" % (name, type(e).__name__, e), flush=True)
    print("%d of %d passed" % (len(tests) - failed, len(tests)))
    sys.exit(1 if failed else 0)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_status(got, status, body=None):
    """got is request()'s (status, headers, body)."""
    expect(got[0] == status, "expected HTTP %s, got %s %r" % (status, got[0], got[2][:300]))
    if body is not None:
        expect(got[2] == body, "expected body %r, got %r" % (body, got[2][:300]))


@contextlib.contextmanager
def running(gateway, bootstrap, *flags, env=None, split_stdout=False):
    """A Gateway for the with-block, stopped cleanly at its end (a failure carries the
    gateway's output), cleaned up in any case."""
    gw = Gateway(gateway, bootstrap, *flags, env=env, split_stdout=split_stdout)
    try:
        yield gw
        gw.stop()
    except BaseException as e:
        raise AssertionError("%s\n--- gateway output ---\n%s" % (e, gw.output()[-4000:])) from e
    finally:
        gw.cleanup()


def act(gw, action, path, method="GET", body=None, headers=None, timeout=60):
    """A request the fake bootstrap answers as X-Fake-Action says."""
    h = {"X-Fake-Action": action}
    h.update(headers or {})
    return gw.request(method, path, h, body, timeout)


def main_for_module(module):
    """main_with_fake_bootstrap for a test module's globals: runs its test_* functions and sets
    its ARGS and FAKE before they run."""
    def start(args, fake):
        module["ARGS"], module["FAKE"] = args, fake

    main_with_fake_bootstrap(module["__doc__"], [(name, fn) for name, fn in module.items()
                                                 if name.startswith("test_") and callable(fn)], start)


def main_with_fake_bootstrap(doc, tests, start):
    """The main of a test file run against fake_bootstrap.py: parses --gateway, writes the
    executable wrapper the gateway runs as its bootstrap (it passes no arguments), calls
    start(args, wrapper_path), runs tests (name, function) and removes the wrapper."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--gateway", required=True)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="gw-fake-")
    fake = os.path.join(tmp, "bootstrap")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nexec %s %s\n" % (sys.executable, os.path.join(here, "fake_bootstrap.py")))
    os.chmod(fake, stat.S_IRWXU)
    start(args, fake)
    try:
        run_tests(tests)
    finally:
        os.unlink(fake)
        os.rmdir(tmp)
