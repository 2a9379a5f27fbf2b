#!/usr/bin/env python3
"""users-gateway's tracing (issue 14, "Locally") against the scripted bootstrap
(fake_bootstrap.py): the Lambda-Runtime-Trace-Id it hands out (a sampled trace, a new Root and
Parent per request, the client's trace continued), AWS_XRAY_DAEMON_ADDRESS in the bootstraps'
environment only with --trace, and the --trace console: subsegments received on UDP and the
invocation line's metrics printed readably, grouped under their request; malformed datagrams
printed as such without harm; the bootstraps' stdout passed on byte for byte.

    test_tracing.py --gateway build/users-gateway
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

ARGS = None
FAKE = None

TRACE = re.compile(r"^Root=(1-([0-9a-f]{8})-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$")
HEADER = b'{"format": "json", "version": 1}\n'
XRAY_VARS = ("AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT",
             "_X_AMZN_TRACE_ID")


def gateway(*flags, env=None, split_stdout=False):
    return gwtest.running(ARGS.gateway, FAKE, *flags, env=env, split_stdout=split_stdout)


expect = gwtest.expect


def act(gw, action, path="/x", method="GET", headers=None):
    return gwtest.act(gw, action, path, method, headers=headers)


def echo_trace(gw, headers=None):
    """(Lambda-Runtime-Trace-Id, the response's X-Amzn-Trace-Id, the event's) of one request."""
    st, hdrs, body = act(gw, "echo", headers=headers)
    expect(st == 200, "echo answered %s" % st)
    doc = json.loads(body)
    return (doc["runtime"].get("Lambda-Runtime-Trace-Id"),
            gwtest.header(hdrs, "X-Amzn-Trace-Id"),
            doc["event"]["headers"].get("X-Amzn-Trace-Id"))


def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_udp(port, data):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, ("127.0.0.1", port))


def console_port(gw):
    m = gwtest.wait_until(
        lambda: re.search(r"X-Ray subsegments on UDP 127\.0\.0\.1:(\d+)", gw.output()), 10,
        "the gateway to say its X-Ray port")
    return int(m.group(1))


def block_of(output, root):
    """The lines of the console block whose header names trace root: header, then its calls."""
    lines = output.splitlines()
    ends = ("(trace %s)" % root, "(trace %s, not sampled)" % root)
    for i, line in enumerate(lines):
        if not line.startswith(" ") and line.endswith(ends):
            calls = []
            for nxt in lines[i + 1:]:
                if not nxt.startswith("  "):
                    break
                calls.append(nxt)
            return line, calls
    return None


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


# ---- the bootstraps' environment ----

def test_daemon_address_only_with_trace():
    inherited = {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9", "_AWS_XRAY_DAEMON_ADDRESS": "10.0.0.1",
                 "_AWS_XRAY_DAEMON_PORT": "9", "_X_AMZN_TRACE_ID": "Root=1-00000000-x"}
    with gateway(env=inherited) as gw:
        env = json.loads(act(gw, "env")[2])["env"]
        expect(all(env[k] is None for k in XRAY_VARS),
               "without --trace no X-Ray variable reaches the bootstrap: %r" % env)
        expect("X-Ray" not in gw.output() or "no X-Ray daemon" in gw.output(), "no daemon said")
    port = udp_port()
    with gateway("--trace-port", str(port), env=inherited) as gw:
        env = json.loads(act(gw, "env")[2])["env"]
        expect(env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:%d" % port, "address %r" % env)
        expect(env["_AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1", "%r" % env)
        expect(env["_AWS_XRAY_DAEMON_PORT"] == str(port), "%r" % env)
        expect(env["_X_AMZN_TRACE_ID"] is None, "no trace id inherited: %r" % env)
    with gateway("--trace", env=inherited) as gw:
        env = json.loads(act(gw, "env")[2])["env"]
        port = console_port(gw)
        expect(env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:%d" % port,
               "--trace alone: the port the gateway bound (%d): %r" % (port, env))


def test_trace_port_in_use_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        p = subprocess.run([ARGS.gateway, "--port", str(gwtest.free_port()), "--bootstrap", FAKE,
                            "--trace-port", str(port)], capture_output=True, text=True, timeout=10)
    expect(p.returncode == 1, "exit status %s" % p.returncode)
    expect("UDP port %d on 127.0.0.1 is already in use" % port in p.stderr, p.stderr)
    for flags in (["--sampled", "2"], ["--trace-port", "0"], ["--trace-port", "x"]):
        p = subprocess.run([ARGS.gateway, "--port", "1", "--bootstrap", FAKE] + flags,
                           capture_output=True, text=True, timeout=10)
        expect(p.returncode == 1 and "bad value" in p.stderr, "%s: %r" % (flags, p.stderr))


# ---- the --trace console ----

CALL_GET = "  DynamoDB GetItem Users 1.5 ms status 200 retries 0"
CALL_TX = "  DynamoDB TransactWriteItems Users 1.7 ms status 400 retries 2 [error throttle]"


def test_console_groups_calls_and_metrics_under_the_request():
    with gateway("--trace", "--instances", "1", split_stdout=True) as gw:
        roots = []
        for _ in range(2):
            st, hdrs, _ = act(gw, "xray", "/users", "POST")
            expect(st == 201, "xray answered %s" % st)
            roots.append(gwtest.header(hdrs, "X-Amzn-Trace-Id")[len("Root="):])
        blocks = [gwtest.wait_until(lambda r=r: block_of(gw.output(), r), 10,
                                    "the block of %s" % r) for r in roots]
        first, second = blocks
        expect(first[0] == "POST /users 201 CreateUser latency 4.1 ms ddb 3.2 ms retries 2 "
                          "cold-start (trace %s)" % roots[0], "first header %r" % first[0])
        expect(second[0] == "POST /users 201 CreateUser latency 4.1 ms ddb 3.2 ms retries 2 "
                           "(trace %s)" % roots[1], "second header %r" % second[0])
        for header, calls in blocks:
            expect(calls == [CALL_GET, CALL_TX], "calls under %r: %r" % (header, calls))
        out = gw.output()
        expect(out.index(first[0]) < out.index(second[0]), "blocks in request order")
        # A request the bootstrap logs nothing for still gets its line.
        st, hdrs, _ = act(gw, "pid", "/users/abc")
        root = gwtest.header(hdrs, "X-Amzn-Trace-Id")[len("Root="):]
        header, calls = gwtest.wait_until(lambda: block_of(gw.output(), root), 10, "pid's block")
        expect(re.match(r"^GET /users/abc 200 [0-9.]+ ms at the gateway, no invocation log line "
                        r"\(trace 1-", header) and calls == [], "%r %r" % (header, calls))
        # stdout: the bootstraps' lines, byte for byte, and nothing else.
        lines = gw.stdout().decode().splitlines()
        expect(len(lines) == 6, "six lines on stdout: %r" % lines)
        expect(lines[1] == "plain text, not JSON", "passed on as written: %r" % lines[1])
        expect(json.loads(lines[2])["traceId"] == roots[0], "the first invocation line")


def test_unsampled_invocations_have_no_calls():
    with gateway("--trace", "--sampled", "0", "--instances", "1") as gw:
        st, hdrs, _ = act(gw, "xray", "/users", "POST")
        root = gwtest.header(hdrs, "X-Amzn-Trace-Id")[len("Root="):]
        header, calls = gwtest.wait_until(lambda: block_of(gw.output(), root), 10, "the block")
        expect(header == "POST /users 201 CreateUser latency 4.1 ms ddb 3.2 ms retries 2 "
                         "cold-start (trace %s, not sampled)" % root and calls == [],
               "%r %r" % (header, calls))


def test_malformed_datagrams_are_printed_and_survived():
    port = udp_port()
    with gateway("--trace-port", str(port)) as gw:
        bad = [b"", b"garbage", HEADER.rstrip(b"\n"), b'{"format": "xml", "version": 1}\n{}',
               HEADER + b"not json", HEADER + b"[1, 2]", b"\x00\xff\xfe\n\x01\x02",
               HEADER + b'{"name": "' + b"x" * 70000 + b'"}']
        sent = 0
        for data in bad:
            try:
                send_udp(port, data)
                sent += 1
            except OSError:  # the 70 KB one may be refused by the kernel; the rest is the test
                pass
        # One that is well formed, for a trace that is no request of this gateway's.
        now = time.time()
        doc = {"name": "DynamoDB", "id": "0123456789abcdef",
               "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "parent_id": "fedcba9876543210",
               "type": "subsegment", "namespace": "aws", "start_time": now - 0.002,
               "end_time": now, "aws": {"operation": "Query", "table_name": "Users",
                                        "retries": 1}, "http": {"response": {"status": 200}}}
        send_udp(port, HEADER + json.dumps(doc).encode())
        gwtest.wait_until(lambda: "no request of this gateway" in gw.output(), 10,
                          "the stray subsegment printed")
        out = gw.output()
        expect(re.search(r"^DynamoDB Query Users 2\.0 ms status 200 retries 1 \(trace "
                         r"1-5759e988-bd862e3fe1be46a994272793: no request of this gateway\)$",
                         out, re.M), "stray subsegment line")
        malformed = re.findall(r"^X-Ray: malformed datagram \((\d+) bytes\): (.*)$", out, re.M)
        expect(len(malformed) == sent, "each of the %d malformed datagrams said: %r"
               % (sent, malformed))
        expect(any("not {\"format\": \"json\", \"version\": 1}" in m[1] for m in malformed),
               "the header line named: %r" % malformed)
        expect(all("\x00" not in m[1] and "\x01" not in m[1] for m in malformed),
               "no raw bytes on the console")
        expect(act(gw, "pid")[0] == 200, "the gateway serves on")


def main():
    gwtest.main_for_module(globals())


if __name__ == "__main__":
    main()
