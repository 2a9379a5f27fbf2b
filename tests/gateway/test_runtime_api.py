#!/usr/bin/env python3
"""users-gateway against a scripted bootstrap (fake_bootstrap.py): both faces of the local
stack. The HTTP side must answer as API Gateway does (events, 502/504/413/429, headers); the
Lambda side must run the Runtime API as Lambda does (one invocation per process, queueing,
deadlines, kill and replace, init errors, 400 for unknown ids, 413 for big answers); and
SIGTERM must end the gateway with status 0 and no bootstrap left.

    test_runtime_api.py --gateway build/users-gateway
"""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

ARGS = None
FAKE = None  # an executable wrapper: the gateway runs bootstraps without arguments

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
INTERNAL = b'{"message": "Internal server error"}'
TIMED_OUT = b'{"message": "Endpoint request timed out"}'


def gateway(*flags, env=None):
    return gwtest.running(ARGS.gateway, FAKE, *flags, env=env)


def act(gw, action, path="/x", method="GET", body=None, headers=None, timeout=60):
    return gwtest.act(gw, action, path, method, body, headers, timeout)


expect = gwtest.expect


expect_status = gwtest.expect_status


def in_threads(calls):
    """Runs each callable in its own thread; returns their results in order."""
    results = [None] * len(calls)

    def run(i, fn):
        try:
            results[i] = fn()
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, Exception):
            raise r
    return results


def test_event_and_runtime_headers():
    with gateway("--timeout", "7") as gw:
        st, headers, body = act(gw, "echo", "/users/abc?x=1&x=2&q=a+b")
        expect_status((st, headers, body), 200)
        doc = json.loads(body)
        ev, rt = doc["event"], doc["runtime"]
        expect(ev["resource"] == "/users/{userId}", "resource %r" % ev["resource"])
        expect(ev["pathParameters"] == {"userId": "abc"}, "pathParameters %r" % ev["pathParameters"])
        expect(ev["multiValueQueryStringParameters"] == {"x": ["1", "2"], "q": ["a b"]},
               "multi query %r" % ev["multiValueQueryStringParameters"])
        expect(ev["queryStringParameters"] == {"x": "2", "q": "a b"}, "query")
        expect(ev["headers"]["X-Fake-Action"] == "echo", "client header kept with its case")
        expect(ev["body"] is None and ev["isBase64Encoded"] is False, "empty body is null")
        ctx = ev["requestContext"]
        expect(ctx["requestId"] == gwtest.header(headers, "x-amzn-RequestId"),
               "x-amzn-RequestId is the event's requestId")
        expect(ctx["extendedRequestId"] == gwtest.header(headers, "x-amz-apigw-id"),
               "x-amz-apigw-id is the event's extendedRequestId")
        expect(UUID.match(ctx["requestId"]), "requestId is a UUID")
        expect(ctx["stage"] == "local" and ctx["path"] == "/local/users/abc", "stage path")
        expect(abs(ctx["requestTimeEpoch"] - time.time() * 1000) < 10000, "requestTimeEpoch")
        # The Runtime API's side of the same invocation.
        expect(UUID.match(rt["Lambda-Runtime-Aws-Request-Id"]), "Lambda request id is a UUID")
        expect(rt["Lambda-Runtime-Aws-Request-Id"] != ctx["requestId"], "two different ids")
        deadline = int(rt["Lambda-Runtime-Deadline-Ms"])
        expect(abs(deadline - (time.time() * 1000 + 7000)) < 3000,
               "Deadline-Ms is now + the 7 s timeout, got %d" % deadline)
        expect(re.match(r"^arn:aws:lambda:[a-z0-9-]+:123456789012:function:users-api-local$",
                        rt["Lambda-Runtime-Invoked-Function-Arn"]), "function ARN")
        trace = gwtest.header(headers, "X-Amzn-Trace-Id")
        expect(trace and rt["Lambda-Runtime-Trace-Id"].startswith(trace + ";Parent="),
               "trace ids agree: %r / %r" % (trace, rt["Lambda-Runtime-Trace-Id"]))
        # A binary body goes through base64 and comes out the same bytes.
        raw = bytes(range(256))
        st, _, body = act(gw, "echo", "/users", "POST", raw,
                          {"Content-Type": "application/octet-stream"})
        ev = json.loads(body)["event"]
        expect(ev["isBase64Encoded"] is True and base64.b64decode(ev["body"]) == raw,
               "binary body as base64")
        st, _, body = act(gw, "echo", "/users", "POST", b'{"name":"x"}',
                          {"Content-Type": "application/json"})
        ev = json.loads(body)["event"]
        expect(ev["isBase64Encoded"] is False and ev["body"] == '{"name":"x"}', "JSON as text")


def test_answers_translated():
    with gateway() as gw:
        r = act(gw, "malformed")
        expect_status(r, 502, b'{"message":"Internal server error"}')
        r = act(gw, "status0")
        expect_status(r, 502, INTERNAL)
        expect(gwtest.header(r[1], "x-amzn-ErrorType") == "InternalServerErrorException",
               "x-amzn-ErrorType on a malformed answer")
        expect_status(act(gw, "error"), 502, INTERNAL)
        r = act(gw, "binary")
        expect_status(r, 200, b"\x00\x01\x02\xff")
        expect(gwtest.header(r[1], "Content-Type") == "application/octet-stream", "binary type")
        st, headers, body = act(gw, "headers")
        expect(st == 201 and body == b"plain text", "headers answer")
        combined = [v for k, v in headers if k.lower() == "combined-header"]
        expect(combined == ["multi-value1", "multi-value2", "single-value"],
               "merged Combined-Header: %r" % combined)
        expect(gwtest.header(headers, "Content-Type") == "application/json", "default type")
        expect(gwtest.header(headers, "x-amzn-RequestId"), "x-amzn-RequestId on every answer")
        out = gw.output()
        expect("Malformed Lambda proxy response" in out, "malformed answers are logged")
        expect('"source":"access"' in out, "access log lines")


def test_response_over_6mb_is_413_then_502():
    with gateway("--instances", "1") as gw:
        expect_status(act(gw, "big", timeout=30), 502, INTERNAL)
        st, _, body = act(gw, "report")
        expect(st == 200 and json.loads(body)["stale"] == [413],
               "the Runtime API answered the big response with %r" % body)


def test_unknown_and_answered_ids_are_400():
    with gateway("--instances", "1") as gw:
        r = act(gw, "stale")
        expect_status(r, 200)
        st, _, body = act(gw, "report")
        expect(json.loads(body)["stale"] == [400, 400],
               "unknown id, then an answered id: %r" % body)


def test_concurrency_and_queueing():
    with gateway("--instances", "2") as gw:
        act(gw, "pid")  # both processes up
        gwtest.wait_until(lambda: len(gw.bootstraps()) == 2, 10, "two bootstraps")
        start = time.monotonic()
        two = in_threads([lambda: act(gw, "sleep:1")] * 2)
        took = time.monotonic() - start
        pids = {json.loads(r[2])["pid"] for r in two}
        expect(all(r[0] == 200 for r in two), "both answered")
        expect(len(pids) == 2, "two requests ran in two processes: %r" % pids)
        expect(took < 1.9, "two requests on two instances ran in parallel (%.2fs)" % took)
        start = time.monotonic()
        three = in_threads([lambda: act(gw, "sleep:1")] * 3)
        took = time.monotonic() - start
        expect(all(r[0] == 200 for r in three), "all three answered")
        expect(took >= 1.9, "the third request waited for a free instance (%.2fs)" % took)


def test_deadline_kills_and_replaces():
    with gateway("--instances", "1", "--timeout", "2") as gw:
        before = gwtest.wait_until(gw.bootstraps, 10, "a bootstrap")
        start = time.monotonic()
        r = act(gw, "hang")
        took = time.monotonic() - start
        expect_status(r, 504, TIMED_OUT)
        expect(1.5 <= took < 5, "504 after the 2 s timeout (%.2fs)" % took)
        r = act(gw, "pid")
        expect_status(r, 200)
        expect(json.loads(r[2])["pid"] not in before, "a new process serves after the kill")
        expect(not any(gwtest.alive(p) for p in before), "the hung process is gone")
        expect("Task timed out after 2.00 seconds" in gw.output(), "the timeout is logged")


def test_crash_is_502_and_replaced():
    with gateway("--instances", "1") as gw:
        act(gw, "pid")
        before = gw.bootstraps()
        r = act(gw, "crash")
        expect_status(r, 502, INTERNAL)
        r = act(gw, "pid")
        expect_status(r, 200)
        expect(json.loads(r[2])["pid"] not in before, "replaced after the crash")
        expect("exited with status 3 while running" in gw.output(), "the crash is logged")


def test_sigkill_of_idle_bootstrap_is_replaced():
    with gateway("--instances", "2") as gw:
        pids = gwtest.wait_until(lambda: len(gw.bootstraps()) == 2 and gw.bootstraps(), 10,
                                 "two bootstraps")
        os.kill(pids[0], 9)
        gwtest.wait_until(lambda: pids[0] not in gw.bootstraps() and len(gw.bootstraps()) == 2,
                          10, "a replacement")
        seen = {json.loads(act(gw, "sleep:0.3")[2])["pid"] for _ in range(1)}
        both = in_threads([lambda: act(gw, "sleep:0.5")] * 2)
        seen |= {json.loads(r[2])["pid"] for r in both}
        expect(all(r[0] == 200 for r in both), "requests after the kill succeed")
        expect(pids[0] not in seen, "the killed process served nothing")


def test_queue_wait_is_bounded():
    # One process, timeout 2 s: A runs 0-1.5 s, B 1.5-3 s; C, queued at 0.2 s, has waited its
    # 2 s when no process is free yet, and gets the 504 at about 2.2 s.
    with gateway("--instances", "1", "--timeout", "2") as gw:
        act(gw, "pid")

        def c():
            time.sleep(0.2)
            t = time.monotonic()
            r = act(gw, "pid")
            return r, time.monotonic() - t

        a, b, (r, took) = in_threads([lambda: act(gw, "sleep:1.5"),
                                      lambda: (time.sleep(0.1), act(gw, "sleep:1.5"))[1], c])
        expect_status(a, 200)
        expect_status(b, 200)
        expect_status(r, 504, TIMED_OUT)
        expect(1.8 <= took < 2.8, "the queued request waited the 2 s timeout (%.2fs)" % took)
        expect_status(act(gw, "pid"), 200)


def test_full_queue_is_429():
    with gateway("--instances", "1", "--timeout", "3", "--queue", "1") as gw:
        act(gw, "pid")

        def third():
            time.sleep(0.5)
            t = time.monotonic()
            r = act(gw, "pid")
            return r, time.monotonic() - t

        hang, queued, (r, took) = in_threads([lambda: act(gw, "hang"),
                                              lambda: (time.sleep(0.2), act(gw, "pid"))[1],
                                              third])
        expect_status(r, 429, b'{"message":"Too Many Requests"}')
        expect(took < 1, "a full queue answers at once (%.2fs)" % took)
        expect(hang[0] == 504, "the hung one timed out")


def test_body_over_10mb_is_413():
    with gateway() as gw:
        big = b"x" * (10 * 1024 * 1024 + 1)
        r = gw.request("POST", "/users", {"Content-Type": "application/json"}, big)
        expect_status(r, 413, b'{"message":"Request Too Long"}')
        # A client that asks for 100-continue is answered before it sends anything.
        with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
            s.sendall(b"POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 20000000\r\nExpect: 100-continue\r\n\r\n")
            reply = s.recv(4096)
        expect(reply.startswith(b"HTTP/1.1 413"), "with Expect: %r" % reply[:60])
        # Chunked, so no Content-Length tells: the gateway must count.
        with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as s:
            s.sendall(b"POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Content-Type: application/json\r\n\r\n")
            chunk = b"x" * (1024 * 1024)
            for _ in range(11):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            reply = b""
            while b"\r\n\r\n" not in reply:
                data = s.recv(4096)
                if not data:
                    break
                reply += data
        expect(reply.startswith(b"HTTP/1.1 413"), "chunked 11 MB: %r" % reply[:60])
        # Exactly 10 MB passes API Gateway's limit, but not Lambda's 6 MB request limit.
        r = gw.request("POST", "/users", {"Content-Type": "application/json"},
                       b"x" * (10 * 1024 * 1024))
        expect_status(r, 413, b'{"message":"Request Too Long"}')
        expect_status(act(gw, "pid"), 200)


def test_init_error_fails_the_waiting_request():
    with gateway("--instances", "1", env={"FAKE_INIT_ERROR": "1"}) as gw:
        start = time.monotonic()
        r = act(gw, "pid")
        expect_status(r, 502, INTERNAL)
        expect(time.monotonic() - start < 10, "answered without waiting for the timeout")
        out = gw.output()
        expect("init error: bootstrap 0: Runtime.ConfigError: USERS_TABLE is not set" in out,
               "the init error is logged")


def test_next_without_answer_is_502():
    with gateway("--instances", "1") as gw:
        expect_status(act(gw, "noanswer"), 502, INTERNAL)
        expect_status(act(gw, "pid"), 200)


def test_port_in_use_is_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run([ARGS.gateway, "--port", str(port), "--bootstrap", FAKE],
                           capture_output=True, text=True, timeout=10)
        expect(p.returncode == 1, "exit status %s" % p.returncode)
        expect("port %d on 127.0.0.1 is already in use" % port in p.stderr, p.stderr)


def test_bad_flags_are_refused():
    for flags in (["--instances", "0"], ["--timeout", "x"], ["--nope", "1"],
                  ["--bootstrap", "/nonexistent"]):
        p = subprocess.run([ARGS.gateway, "--port", "1"] + flags, capture_output=True,
                           text=True, timeout=10)
        expect(p.returncode == 1 and "users-gateway:" in p.stderr, "%s: %r" % (flags, p.stderr))


def main():
    gwtest.main_for_module(globals())


if __name__ == "__main__":
    main()
