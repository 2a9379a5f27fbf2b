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
  cookies       answers 200 with a payload 2.0 cookies array (and multiValueHeaders, which
                payload 2.0 ignores)
  nostatus      answers a JSON object without statusCode (an HTTP API's body as is)
  cors          answers 200 with the function's own Access-Control-* headers
  stale         posts for an unknown id, then answers, then answers again; the Runtime API's
                statuses for the two extra posts are reported by the next "report"
  report        200, body = {"stale": [...statuses...]}
  noanswer      asks for the next event without answering this one
  env           200, body = {"env": {...}}: the X-Ray variables of its environment
  xray          acts as the bootstrap of issue 14 does with tracing: two subsegments to
                AWS_XRAY_DAEMON_ADDRESS (when set and the trace is sampled), one invocation line
                with EMF (plus a line that is not one, and one that is not JSON) on stdout, 201

FAKE_INIT_ERROR=1 makes it post /runtime/init/error and exit 1 instead of serving.
"""
import base64
import json
import os
import socket
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


XRAY_VARS = ("AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT",
             "_X_AMZN_TRACE_ID")


def trace_fields(header):
    return dict(part.split("=", 1) for part in header.split(";") if "=" in part)


def send_subsegments(trace_header):
    """One subsegment per DynamoDB call, as the bootstrap sends them while it runs."""
    fields = trace_fields(trace_header)
    addr = os.environ.get("AWS_XRAY_DAEMON_ADDRESS")
    if addr and fields.get("Sampled") == "1":
        host, port = addr.rsplit(":", 1)
        now = time.time()
        calls = [
            {"aws": {"operation": "GetItem", "table_name": "Users", "region": "us-east-1",
                     "retries": 0, "request_id": "REQ1"},
             "http": {"response": {"status": 200}}, "start_time": now - 0.0040,
             "end_time": now - 0.0025},
            {"aws": {"operation": "TransactWriteItems", "table_name": "Users",
                     "region": "us-east-1", "retries": 2},
             "http": {"response": {"status": 400}}, "start_time": now - 0.0020,
             "end_time": now - 0.0003, "error": True, "throttle": True},
        ]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i, c in enumerate(calls):
                c.update({"name": "DynamoDB", "id": "%016x" % (0xabc0 + i),
                          "trace_id": fields["Root"], "parent_id": fields["Parent"],
                          "type": "subsegment", "namespace": "aws"})
                s.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(c).encode(),
                         (host, int(port)))


def log_invocation(rid, trace_header, cold, out=sys.stdout):
    """The invocation line, written after the answer as the bootstrap does."""
    fields = trace_fields(trace_header)
    line = {"timestamp": "2026-01-01T00:00:00.000Z", "level": "INFO", "requestId": rid,
            "message": "invocation", "method": "POST", "route": "/users", "status": 201,
            "durationMs": 4.1, "ddbAttempts": 4, "awsRequestId": rid,
            "traceId": fields.get("Root"), "coldStart": cold,
            "functionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "functionVersion": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION"),
            "_aws": {"Timestamp": int(time.time() * 1000),
                     "CloudWatchMetrics": [{
                         "Namespace": "UsersApi", "Dimensions": [["Service", "Operation"]],
                         "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"},
                                     {"Name": "DynamoDBLatency", "Unit": "Milliseconds"},
                                     {"Name": "DynamoDBRetries", "Unit": "Count"},
                                     {"Name": "ClientErrors", "Unit": "Count"},
                                     {"Name": "ServerErrors", "Unit": "Count"}] +
                                    ([{"Name": "ColdStart", "Unit": "Count"}] if cold else [])}]},
            "Service": "users-api", "Operation": "CreateUser", "Latency": 4.1,
            "DynamoDBLatency": 3.2, "DynamoDBRetries": 2, "ClientErrors": 0, "ServerErrors": 0}
    if cold:
        line["ColdStart"] = 1
    print(json.dumps({"level": "DEBUG", "message": "not an invocation line"}), file=out)
    print("plain text, not JSON", file=out)
    print(json.dumps(line), file=out, flush=True)


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
        elif action == "cookies":
            answer(rid, {"statusCode": 200, "headers": {"Content-Type": "text/plain"},
                         "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
                         "multiValueHeaders": {"X-Multi": ["a", "b"]}, "body": "with cookies"})
        elif action == "nostatus":
            answer(rid, {"name": "Ada", "body": "not a proxy body"})
        elif action == "cors":
            answer(rid, {"statusCode": 200,
                         "headers": {"Content-Type": "application/json",
                                     "Access-Control-Allow-Origin": "https://function.example",
                                     "Access-Control-Expose-Headers": "X-From-Function",
                                     "Vary": "Origin"},
                         "body": "{}"})
        elif action == "stale":
            first = answer("00000000-0000-4000-8000-000000000000", ok({}))
            answer(rid, ok({"pid": os.getpid()}))
            stale = [first, answer(rid, ok({"again": True}))]
        elif action == "report":
            answer(rid, ok({"stale": stale, "pid": os.getpid()}))
        elif action == "noanswer":
            continue
        elif action == "env":
            answer(rid, ok({"env": {k: os.environ.get(k) for k in XRAY_VARS}}))
        elif action == "xray":
            trace = headers.get("Lambda-Runtime-Trace-Id", "")
            send_subsegments(trace)
            answer(rid, ok({"created": True}, 201))
            log_invocation(rid, trace, served == 1)
        else:
            answer(rid, ok({"unknown action": action}, 400))


if __name__ == "__main__":
    main()
