#!/usr/bin/env python3
"""A scripted bootstrap for scripts/invoke.sh's failure paths: FAKE_MODE says what it does.

  init-error  POST /runtime/init/error, then exit 1
  exit        take the event, exit 7 without answering
  timeout     take the event, never answer
  malformed   answer a response that is not a Lambda proxy response
  echo        answer 200 with the event it got as the body (and ask /next again, as a real
              runtime does: the one-shot API must hold that second call)
"""
import http.client
import json
import os
import sys
import time

host, _, port = os.environ["AWS_LAMBDA_RUNTIME_API"].partition(":")
mode = os.environ.get("FAKE_MODE", "echo")


def call(method, path, body=None):
    c = http.client.HTTPConnection(host, int(port), timeout=3600)
    c.request(method, "/2018-06-01/runtime" + path, body=body)
    r = c.getresponse()
    return r, r.read()


print(json.dumps({"message": "fake bootstrap", "mode": mode}), flush=True)
if mode == "init-error":
    call("POST", "/init/error", json.dumps({"errorMessage": "no table", "errorType": "Runtime.InitError"}))
    sys.exit(1)
r, event = call("GET", "/invocation/next")
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
for h in ("Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"):
    if not r.getheader(h):
        call("POST", f"/invocation/{rid}/error", json.dumps({"errorMessage": f"no {h}", "errorType": "Fake"}))
        sys.exit(1)
if mode == "exit":
    sys.exit(7)
if mode == "timeout":
    time.sleep(3600)
if mode == "malformed":
    call("POST", f"/invocation/{rid}/response", b'{"statusCode": "abc"}')
else:
    answer = {"statusCode": 200, "headers": {"Content-Type": "application/json"},
              "body": json.dumps({"event": json.loads(event), "env": {
                  k: os.environ.get(k) for k in ("AWS_LAMBDA_FUNCTION_NAME", "_X_AMZN_TRACE_ID", "AWS_XRAY_DAEMON_ADDRESS")}})}
    bad, _ = call("POST", "/invocation/not-the-id/response", b"{}")
    answer["headers"]["X-Wrong-Id-Status"] = str(bad.status)
    call("POST", f"/invocation/{rid}/response", json.dumps(answer))
call("GET", "/invocation/next")  # held until this process is stopped
