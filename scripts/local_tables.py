#!/usr/bin/env python3
"""The template's DynamoDB tables in DynamoDB Local: what the stack deploys, created locally.

    python3 scripts/local_tables.py --endpoint http://127.0.0.1:PORT [--table-name Users]

Reads the tables from infra/template.yaml (`node scripts/template.mjs tables`, one source for
the cloud and the local stack), then for each one: creates it when it is missing; when it
exists, adds the global secondary indexes it lacks (a users table kept in .local/dynamodb/
from before phase 2 gains the email index); enables its TTL. Waits until every table and
index is ACTIVE. Running it again changes nothing.

Prints the function's environment that names the tables (NAME=value, one per line), then
BACKFILL=1 when an existing users table was just given its claims table or index, so its
users' addresses still need claims (scripts/backfill-emails.sh), else BACKFILL=0. Progress
goes to stderr. Exit status 0, or 1 with the reason.

Also a module: ensure(call, table_name) with call(operation, payload) -> (status, body), as
tests/integration/harness.py's DynamoDB Local has it.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE_TOOL = os.path.join(REPO, "scripts", "template.mjs")
ACTIVE_WITHIN_S = 60


class TableError(Exception):
    pass


def template_tables(table_name=None):
    """{"tables": [{"logicalId", "create", "timeToLive"}], "environment": {...}} from the template."""
    cmd = ["node", TEMPLATE_TOOL, "tables"] + (["--table-name", table_name] if table_name else [])
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        raise TableError("%s failed (npm ci installs what it needs):\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return json.loads(r.stdout)


def endpoint_caller(endpoint, timeout=10, access_key_id="local", region="us-east-1"):
    """call(operation, payload) -> (HTTP status, parsed body) for a DynamoDB Local endpoint.
    DynamoDB Local checks the shape of the signature, not its value; without -sharedDb it
    keeps one database per access key and region, which the credential scope names."""
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme != "http" or not url.hostname:
        raise TableError("--endpoint must be http://host:port, not %r" % endpoint)

    def call(operation, payload):
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810." + operation,
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/dynamodb/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00" % (access_key_id, region),
        }
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
        try:
            conn.request("POST", "/", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else {})
        finally:
            conn.close()

    return call


def _ok(call, operation, payload):
    status, body = call(operation, payload)
    if status != 200:
        raise TableError("%s %s: HTTP %s %s" % (operation, payload.get("TableName"), status, body))
    return body


def _describe(call, name):
    """The table's description, or None when it does not exist."""
    status, body = call("DescribeTable", {"TableName": name})
    if status == 400 and str(body.get("__type", "")).endswith("ResourceNotFoundException"):
        return None
    if status != 200:
        raise TableError("DescribeTable %s: HTTP %s %s" % (name, status, body))
    return body["Table"]


def _wait_active(call, name):
    deadline = time.monotonic() + ACTIVE_WITHIN_S
    while True:
        desc = _describe(call, name) or {}
        if desc.get("TableStatus") == "ACTIVE" and all(
                i.get("IndexStatus") == "ACTIVE" for i in desc.get("GlobalSecondaryIndexes", [])):
            return desc
        if time.monotonic() > deadline:
            raise TableError("table %s is not ACTIVE after %d s: %s" % (name, ACTIVE_WITHIN_S, desc))
        time.sleep(0.1)


def _ensure_ttl(call, name, ttl):
    if not ttl or not ttl.get("Enabled"):
        return
    status, body = call("DescribeTimeToLive", {"TableName": name})
    current = body.get("TimeToLiveDescription", {}) if status == 200 else {}
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if current.get("AttributeName") != ttl["AttributeName"]:
            raise TableError("table %s has TTL on %s, the template on %s"
                             % (name, current.get("AttributeName"), ttl["AttributeName"]))
        return
    _ok(call, "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": ttl})


def ensure(call, table_name=None, log=lambda msg: None):
    """Creates or completes the template's tables. Returns (environment, backfill_needed)."""
    spec = template_tables(table_name)
    existed = {}
    changed = False
    for table in spec["tables"]:
        create = table["create"]
        name = create["TableName"]
        desc = _describe(call, name)
        existed[table["logicalId"]] = desc is not None
        if desc is None:
            _ok(call, "CreateTable", create)
            log("created table %s" % name)
            changed = True
        else:
            added = False
            have = {i["IndexName"] for i in desc.get("GlobalSecondaryIndexes", [])}
            for index in create.get("GlobalSecondaryIndexes", []):
                if index["IndexName"] in have:
                    continue
                _ok(call, "UpdateTable", {
                    "TableName": name,
                    "AttributeDefinitions": create["AttributeDefinitions"],
                    "GlobalSecondaryIndexUpdates": [{"Create": index}],
                })
                log("added index %s to table %s" % (index["IndexName"], name))
                added = changed = True
            if not added:
                log("table %s exists" % name)
        _wait_active(call, name)
        _ensure_ttl(call, name, table["timeToLive"])
    # Users stored before the claims existed have no claims yet.
    backfill = changed and existed.get("UsersTable", False)
    return spec["environment"], backfill


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="DynamoDB Local, http://127.0.0.1:PORT")
    ap.add_argument("--table-name", help="the template's TableName parameter (default its default)")
    args = ap.parse_args()
    try:
        env, backfill = ensure(endpoint_caller(args.endpoint), args.table_name,
                               log=lambda msg: print("local_tables: " + msg, file=sys.stderr))
    except (TableError, OSError, ValueError) as e:
        print("local_tables: %s" % e, file=sys.stderr)
        return 1
    for k, v in sorted(env.items()):
        print("%s=%s" % (k, v))
    print("BACKFILL=%d" % (1 if backfill else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
