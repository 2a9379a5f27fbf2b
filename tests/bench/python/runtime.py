"""A minimal Lambda runtime loop for the Python comparison (what awslambdaric does, without
its extras): GET /next, call the handler, POST /response, over one kept-alive connection."""

import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import handler  # noqa: E402  (import time is part of the cold start, as on Lambda)

API = "/2018-06-01/runtime/invocation/"


def main():
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    while True:
        conn.request("GET", API + "next")
        resp = conn.getresponse()
        event = json.loads(resp.read())
        if resp.status != 200:
            sys.exit(1)
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        os.environ["_X_AMZN_TRACE_ID"] = resp.getheader("Lambda-Runtime-Trace-Id") or ""
        try:
            body = json.dumps(handler.handler(event, None))
            path = API + request_id + "/response"
            headers = {"Content-Type": "application/json"}
        except Exception as exc:  # the runtime's job: report, then serve the next one
            body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__})
            path = API + request_id + "/error"
            headers = {"Content-Type": "application/json",
                       "Lambda-Runtime-Function-Error-Type": type(exc).__name__}
        conn.request("POST", path, body=body, headers=headers)
        conn.getresponse().read()


if __name__ == "__main__":
    main()
