#!/usr/bin/env python3
"""A stand-in bootstrap for the gateway's tests: a Lambda Runtime API client (stdlib only)
whose behaviour each request picks with its X-Fake-Action header.

  echo          200, body = the event it received, plus the invocation's Runtime API headers
  pid           200, body = {"pid": <this process>, "invocations": n}
  sleep:S       sleeps S seconds, then 200
  hang          never answers (the gateway's deadline must kill it)
  crash         exits with status 3 mid-invocation
  malformed     answers with text that is not JSON
  status0       answers {"statusCode": 0, ...}
  error         posts to /invocation/{id}/error
  big           answers with a 7 MB document (the Runtime API must say 413)
  binary        answers 200 with isBase64Encoded true (bytes 00 01 02 ff)
  headers       answers with headers and multiValueHeaders to merge
  stale         posts for an unknown id, then answers, then answers again; the Runtime API's
                statuses for the two extra posts are reported by the next "report"
  report        200, body = {"stale": [...statuses...]}
  noanswer      asks for the next event without answering this one

FAKE_INIT_ERROR=1 makes it post /runtime/init/error and exit 1 instead of serving.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "http://%s/2018-06-01/runtime" % API


def call(method, path, body=None, headers=None):
    req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=3600) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def answer(rid, doc):
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return call("POST", "/invocation/%s/response" % rid, data)[0]


def ok(body, status=200):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def main():
    if os.environ.get("FAKE_INIT_ERROR") == "1":
        call("POST", "/init/error",
             json.dumps({"errorMessage": "USERS_TABLE is not set",
                         "errorType": "Runtime.ConfigError"}).encode(),
             {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"})
        sys.exit(1)
    served = 0
    stale = []
    while True:
        status, headers, body = call("GET", "/invocation/next")
        if status != 200:
            sys.exit(2)
        served += 1
        rid = headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(body)
        hdrs = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        action = hdrs.get("x-fake-action", "echo")
        if action == "echo":
            runtime = {k: v for k, v in headers.items() if k.lower().startswith("lambda-runtime")}
            answer(rid, ok({"event": event, "runtime": runtime}))
        elif action == "pid":
            answer(rid, ok({"pid": os.getpid(), "invocations": served}))
        elif action.startswith("sleep:"):
            time.sleep(float(action.split(":", 1)[1]))
            answer(rid, ok({"pid": os.getpid(), "slept": action}))
        elif action == "hang":
            time.sleep(3600)
        elif action == "crash":
            os._exit(3)
        elif action == "malformed":
            answer(rid, b"Not a valid proxy response object")
        elif action == "status0":
            answer(rid, {"statusCode": 0, "body": "dropped"})
        elif action == "error":
            call("POST", "/invocation/%s/error" % rid,
                 json.dumps({"errorMessage": "boom", "errorType": "Fake.Error"}).encode(),
                 {"Lambda-Runtime-Function-Error-Type": "Fake.Error"})
        elif action == "big":
            stale = [answer(rid, ok({"pad": "x" * (7 * 1024 * 1024)}))]
        elif action == "binary":
            answer(rid, {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                         "body": base64.b64encode(b"\x00\x01\x02\xff").decode(),
                         "isBase64Encoded": True})
        elif action == "headers":
            answer(rid, {"statusCode": 201,
                         "headers": {"Combined-Header": "single-value", "X-One": "1"},
                         "multiValueHeaders": {"Combined-Header": ["multi-value1", "multi-value2"],
                                               "X-Multi": ["a", "b"]},
                         "body": "plain text"})
        elif action == "stale":
            first = answer("00000000-0000-4000-8000-000000000000", ok({}))
            answer(rid, ok({"pid": os.getpid()}))
            stale = [first, answer(rid, ok({"again": True}))]
        elif action == "report":
            answer(rid, ok({"stale": stale, "pid": os.getpid()}))
        elif action == "noanswer":
            continue
        else:
            answer(rid, ok({"unknown action": action}, 400))


if __name__ == "__main__":
    main()
