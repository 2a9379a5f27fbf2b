#!/usr/bin/env python3
"""users-gateway --api http against a scripted bootstrap (fake_bootstrap.py): the local stack
playing an HTTP API (payload 2.0, routes ANY /users and ANY /users/{userId}, CORS configured at
the API). Events must be 2.0 events, answers read as an HTTP API reads them (cookies, base64,
no multiValueHeaders, JSON without statusCode), the gateway's own errors the HTTP API's
({"message": ...}: 500, 503, 413), the template's routes (catch-alls included), preflights answered without calling the
function, and the function's CORS headers replaced by the API's.

    test_http_api.py --gateway build/users-gateway
"""
import base64
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtest  # noqa: E402

ARGS = None
FAKE = None

ISE = b'{"message":"Internal Server Error"}'
UNAVAILABLE = b'{"message":"Service Unavailable"}'


def gateway(*flags, env=None):
    return gwtest.running(ARGS.gateway, FAKE, "--api", "http", *flags, env=env)


def act(gw, action, path="/users", method="GET", body=None, headers=None, timeout=60):
    return gwtest.act(gw, action, path, method, body, headers, timeout)


expect = gwtest.expect


expect_status = gwtest.expect_status


def invocations(gw):
    """How many invocations the access log shows (preflights and 404s have none)."""
    return len(re.findall(r'"lambdaRequestId":"[0-9a-f]', gw.output()))


def test_event_is_payload_2():
    with gateway() as gw:
        st, headers, body = act(gw, "echo", "/users/a%20b%2Fc?x=1&x=2&q=a+b", "PATCH",
                                b'{"age":3}', {"Content-Type": "application/json",
                                               "Cookie": "s=1; t=2", "X-Rep": "one"})
        expect_status((st, headers, body), 200)
        ev = json.loads(body)["event"]
        expect(ev["version"] == "2.0", "version %r" % ev.get("version"))
        expect(ev["routeKey"] == "PATCH /users/{userId}", "routeKey %r" % ev["routeKey"])
        expect(ev["rawPath"] == "/users/a b%2Fc", "rawPath %r" % ev["rawPath"])
        expect(ev["rawQueryString"] == "x=1&x=2&q=a+b", "rawQueryString %r" % ev["rawQueryString"])
        expect(ev["queryStringParameters"] == {"x": "1,2", "q": "a b"},
               "queryStringParameters %r" % ev["queryStringParameters"])
        expect(ev["pathParameters"] == {"userId": "a b/c"}, "decoded %r" % ev["pathParameters"])
        expect(ev["cookies"] == ["s=1", "t=2"], "cookies %r" % ev.get("cookies"))
        expect("cookie" not in ev["headers"], "the Cookie header moved to cookies")
        expect(all(k == k.lower() for k in ev["headers"]), "lower-case header names")
        expect(ev["headers"]["x-fake-action"] == "echo", "client header kept")
        expect(ev["headers"]["x-forwarded-proto"] == "http", "x-forwarded-proto added")
        expect(ev["body"] == '{"age":3}' and ev["isBase64Encoded"] is False, "JSON as text")
        for absent in ("resource", "path", "httpMethod", "multiValueHeaders",
                       "multiValueQueryStringParameters", "stageVariables"):
            expect(absent not in ev, "%s is not a payload 2.0 key" % absent)
        ctx = ev["requestContext"]
        expect(ctx["stage"] == "$default" and ctx["routeKey"] == ev["routeKey"], "stage, route")
        expect(ctx["http"]["method"] == "PATCH" and ctx["http"]["path"] == ev["rawPath"], "http")
        expect(abs(ctx["timeEpoch"] - time.time() * 1000) < 10000, "timeEpoch")
        expect(ctx["requestId"] == gwtest.header(headers, "Apigw-Requestid"),
               "Apigw-Requestid is the event's requestId")
        expect(gwtest.header(headers, "x-amzn-RequestId") is None, "no REST request id")
        # Repeated headers arrive comma-joined; binary bodies as base64.
        st, _, body = act(gw, "echo", "/users", "POST", bytes(range(256)),
                          {"Content-Type": "application/octet-stream"})
        ev = json.loads(body)["event"]
        expect(ev["isBase64Encoded"] is True and base64.b64decode(ev["body"]) == bytes(range(256)),
               "binary body as base64")
        expect(ev["routeKey"] == "POST /users" and "pathParameters" not in ev, "collection route")
        st, _, body = act(gw, "echo", "/users")
        ev = json.loads(body)["event"]
        expect("body" not in ev and "cookies" not in ev and "queryStringParameters" not in ev,
               "empty parts are left out: %r" % sorted(ev))


def test_routes_of_the_template():
    """infra/openapi-http.yaml's routes: method routes, ANY per path, and the catch-alls that
    send every other path to the function (which answers 404 itself)."""
    with gateway() as gw:
        for method, path, route, params in (
                ("GET", "/users", "GET /users", None),
                ("DELETE", "/users", "ANY /users", None),
                ("PATCH", "/users/u1", "PATCH /users/{userId}", {"userId": "u1"}),
                ("POST", "/users/u1", "ANY /users/{userId}", {"userId": "u1"}),
                ("GET", "/", "ANY /", None),
                ("GET", "/users/a/b%20c", "ANY /{proxy+}", {"proxy": "users/a/b c"})):
            st, _, body = act(gw, "echo", path, method)
            expect(st == 200, "%s %s: %s" % (method, path, st))
            ev = json.loads(body)["event"]
            expect(ev["routeKey"] == route and ev["requestContext"]["routeKey"] == route,
                   "%s %s: routeKey %r" % (method, path, ev["routeKey"]))
            expect(ev.get("pathParameters") == params, "%s: %r" % (path, ev.get("pathParameters")))


def test_answers_read_as_payload_2():
    with gateway() as gw:
        st, headers, body = act(gw, "cookies")
        expect(st == 200 and body == b"with cookies", "cookies answer %s %r" % (st, body))
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        expect(cookies == ["a=1; Path=/", "b=2; HttpOnly"], "Set-Cookie: %r" % cookies)
        expect(gwtest.header(headers, "X-Multi") is None, "multiValueHeaders is ignored")
        r = act(gw, "nostatus")
        expect_status(r, 200, b'{"name": "Ada", "body": "not a proxy body"}')
        expect(gwtest.header(r[1], "Content-Type") == "application/json", "JSON by default")
        r = act(gw, "binary")
        expect_status(r, 200, b"\x00\x01\x02\xff")
        st, headers, body = act(gw, "headers")
        expect(st == 201 and body == b"plain text", "headers answer")
        expect([v for k, v in headers if k.lower() == "combined-header"] == ["single-value"],
               "only headers counts in payload 2.0")
        expect(gwtest.header(headers, "Content-Type") == "text/plain; charset=utf-8",
               "an HTTP API's default type: %r" % gwtest.header(headers, "Content-Type"))


def test_malformed_and_failed_invocations_are_500():
    with gateway("--instances", "1") as gw:
        for action in ("malformed", "status0", "error", "crash"):
            r = act(gw, action)
            expect_status(r, 500, ISE)
            expect(gwtest.header(r[1], "x-amzn-ErrorType") is None, "no REST error type")
        expect("Malformed Lambda proxy response" in gw.output(), "malformed answers are logged")


def test_timeout_is_503():
    with gateway("--instances", "1", "--timeout", "2") as gw:
        expect_status(act(gw, "hang", timeout=30), 503, UNAVAILABLE)
        expect_status(act(gw, "pid"), 200)


def test_body_over_10mb_is_413():
    with gateway() as gw:
        r = gw.request("POST", "/users", {"Content-Type": "application/json"},
                       b"x" * (10 * 1024 * 1024 + 1))
        expect_status(r, 413, b'{"message":"Request Entity Too Large"}')


def test_preflight_answered_by_the_gateway():
    with gateway() as gw:
        before = invocations(gw)
        for path in ("/users", "/users/abc", "/not-a-route"):
            st, headers, body = act(gw, "crash", path, "OPTIONS", None,
                                    {"Origin": "https://app.example",
                                     "Access-Control-Request-Method": "PUT",
                                     "Access-Control-Request-Headers": "content-type,if-match"})
            expect(st == 204 and body == b"", "preflight %s: %s %r" % (path, st, body))
            expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "*", "any origin")
            methods = gwtest.header(headers, "Access-Control-Allow-Methods") or ""
            expect(all(m in methods for m in ("GET", "POST", "PUT", "PATCH", "DELETE")), methods)
            allowed = (gwtest.header(headers, "Access-Control-Allow-Headers") or "").lower()
            expect(all(h in allowed for h in ("content-type", "if-match", "idempotency-key")),
                   allowed)
            expect(gwtest.header(headers, "Access-Control-Max-Age") == "600", "max age")
        expect(invocations(gw) == before, "preflights never reach the function")
        # An OPTIONS that is no preflight (no Access-Control-Request-Method) is a request.
        r = act(gw, "pid", "/users", "OPTIONS", None, {"Origin": "https://app.example"})
        expect_status(r, 200)
        expect(invocations(gw) == before + 1, "a plain OPTIONS reaches the function")


def test_cors_headers_are_the_apis():
    with gateway() as gw:
        st, headers, _ = act(gw, "cors", headers={"Origin": "https://app.example"})
        expect(st == 200, "status %s" % st)
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "*",
               "the API's origin, not the function's: %r" % headers)
        expect(gwtest.header(headers, "Access-Control-Expose-Headers") == "ETag, Location",
               "the API's exposed headers")
        expect(gwtest.header(headers, "Vary") == "Origin", "other headers are the function's")
        st, headers, _ = act(gw, "cors")
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") is None,
               "no Origin, no CORS headers")
        expect(gwtest.header(headers, "Access-Control-Expose-Headers") is None, "none at all")


def test_allowed_origins_list():
    with gateway("--allowed-origins", "https://a.example, https://b.example") as gw:
        _, headers, _ = act(gw, "cors", headers={"Origin": "https://b.example"})
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "https://b.example",
               "a listed origin is echoed")
        _, headers, _ = act(gw, "cors", headers={"Origin": "https://evil.example"})
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") is None,
               "an origin not on the list gets none")
        st, headers, _ = act(gw, "crash", "/users", "OPTIONS", None,
                             {"Origin": "https://evil.example",
                              "Access-Control-Request-Method": "GET"})
        expect(st == 204 and gwtest.header(headers, "Access-Control-Allow-Origin") is None,
               "a preflight from an origin not on the list: 204, no CORS headers")
        st, headers, _ = act(gw, "crash", "/users", "OPTIONS", None,
                             {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "https://a.example",
               "a preflight from a listed origin")
    # ALLOWED_ORIGINS from the environment, as the function would read it.
    with gateway(env={"ALLOWED_ORIGINS": "https://env.example"}) as gw:
        _, headers, _ = act(gw, "cors", headers={"Origin": "https://env.example"})
        expect(gwtest.header(headers, "Access-Control-Allow-Origin") == "https://env.example",
               "ALLOWED_ORIGINS inherited")


def test_api_flag_is_checked():
    p = subprocess.run([ARGS.gateway, "--port", "1", "--api", "websocket"], capture_output=True,
                       text=True, timeout=10)
    expect(p.returncode == 1 and "bad value for --api" in p.stderr, p.stderr)
    with gateway() as gw:
        gwtest.wait_until(lambda: "as an HTTP API (payload 2.0)" in gw.output(), 10,
                          "the start line to name the API")


def main():
    gwtest.main_for_module(globals())


if __name__ == "__main__":
    main()
