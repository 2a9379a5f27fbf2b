#!/usr/bin/env python3
"""users-gateway's tracing (issue 14, "Locally") against the scripted bootstrap
(fake_bootstrap.py): the Lambda-Runtime-Trace-Id it hands out (a sampled trace, a new Root and
Parent per request, the client's trace continued).

    test_tracing.py --gateway build/users-gateway
"""
import argparse
import contextlib
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = None
FAKE = None

TRACE = re.compile(r"^Root=(1-([0-9a-f]{8})-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$")


@contextlib.contextmanager
def gateway(*flags, env=None):
    gw = gwtest.Gateway(ARGS.gateway, FAKE, *flags, env=env)
    try:
        yield gw
        gw.stop()
    except BaseException as e:
        raise AssertionError("%s\n--- gateway output ---\n%s" % (e, gw.output()[-4000:])) from e
    finally:
        gw.cleanup()


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def act(gw, action, path="/x", method="GET", headers=None):
    h = {"X-Fake-Action": action}
    h.update(headers or {})
    return gw.request(method, path, h)


def echo_trace(gw, headers=None):
    """(Lambda-Runtime-Trace-Id, the response's X-Amzn-Trace-Id, the event's) of one request."""
    st, hdrs, body = act(gw, "echo", headers=headers)
    expect(st == 200, "echo answered %s" % st)
    doc = json.loads(body)
    return (doc["runtime"].get("Lambda-Runtime-Trace-Id"),
            gwtest.header(hdrs, "X-Amzn-Trace-Id"),
            doc["event"]["headers"].get("X-Amzn-Trace-Id"))


# ---- the trace header ----

def test_lambda_trace_header_is_sampled_and_new_per_request():
    with gateway() as gw:
        roots, parents = set(), set()
        for _ in range(5):
            lambda_trace, response_trace, event_trace = echo_trace(gw)
            m = TRACE.match(lambda_trace or "")
            expect(m, "Lambda-Runtime-Trace-Id %r" % lambda_trace)
            root, epoch, parent, sampled = m.groups()
            expect(sampled == "1", "Sampled=1 by default: %r" % lambda_trace)
            expect(abs(int(epoch, 16) - time.time()) < 120,
                   "the Root is dated now: %r" % lambda_trace)
            expect(response_trace == "Root=" + root,
                   "X-Amzn-Trace-Id answered %r for %r" % (response_trace, lambda_trace))
            expect(event_trace == "Root=" + root,
                   "the event's X-Amzn-Trace-Id %r for %r" % (event_trace, lambda_trace))
            roots.add(root)
            parents.add(parent)
        expect(len(roots) == 5 and len(parents) == 5,
               "a new Root and Parent per request: %r %r" % (roots, parents))


def test_sampled_0_and_the_clients_decision():
    with gateway("--sampled", "0") as gw:
        lambda_trace = echo_trace(gw)[0]
        expect(TRACE.match(lambda_trace) and lambda_trace.endswith(";Sampled=0"),
               "--sampled 0: %r" % lambda_trace)
        # A client's trace goes on under its Root, with its own sampling decision.
        root = "1-5759e988-bd862e3fe1be46a994272793"
        sent = "Root=%s;Parent=53995c3f42cd8ad8;Sampled=1" % root
        lambda_trace, response_trace, event_trace = echo_trace(gw, {"X-Amzn-Trace-Id": sent})
        m = TRACE.match(lambda_trace)
        expect(m and m.group(1) == root and m.group(4) == "1",
               "the client's Root and Sampled=1 kept: %r" % lambda_trace)
        expect(m.group(3) != "53995c3f42cd8ad8", "the Parent is the function's own")
        expect(response_trace == "Root=" + root, "answered %r" % response_trace)
        expect(event_trace == sent, "the event keeps the client's header: %r" % event_trace)
        # A header without a usable Root is not a trace to continue.
        lambda_trace = echo_trace(gw, {"X-Amzn-Trace-Id": "Root=nonsense;Sampled=1"})[0]
        m = TRACE.match(lambda_trace)
        expect(m and m.group(1) != "nonsense" and m.group(4) == "0", "new trace: %r" % lambda_trace)


def test_bad_sampled_is_refused():
    for flags in (["--sampled", "2"], ["--sampled", "x"]):
        p = subprocess.run([ARGS.gateway, "--port", "1", "--bootstrap", FAKE] + flags,
                           capture_output=True, text=True, timeout=10)
        expect(p.returncode == 1 and "bad value" in p.stderr, "%s: %r" % (flags, p.stderr))


def main():
    global ARGS, FAKE
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gateway", required=True)
    ARGS = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="gw-fake-")
    FAKE = os.path.join(tmp, "bootstrap")
    with open(FAKE, "w") as f:
        f.write("#!/bin/sh\nexec %s %s\n" % (sys.executable, os.path.join(HERE, "fake_bootstrap.py")))
    os.chmod(FAKE, stat.S_IRWXU)
    tests = [(name, fn) for name, fn in globals().items()
             if name.startswith("test_") and callable(fn)]
    try:
        gwtest.run_tests(tests)
    finally:
        os.unlink(FAKE)
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
