"""The original design's shape, for comparison only: a Python 3 Lambda handler that serves
GET /users/{userId} with boto3, the client created at import (as the original did), one
GetItem with ConsistentRead, and an API Gateway proxy response.

Debian's python3-boto3 predates AWS_ENDPOINT_URL_DYNAMODB support, so the endpoint override
is passed explicitly, as the SDKs that support it would read it."""

import json
import os

import boto3
from boto3.dynamodb.types import TypeDeserializer

TABLE = os.environ["USERS_TABLE"]
_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
dynamodb = boto3.client("dynamodb", endpoint_url=_endpoint)
_deserialize = TypeDeserializer().deserialize

HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Location",
}


def _plain(value):
    # DynamoDB numbers come back as Decimal; the resource's are integers.
    if hasattr(value, "as_integer_ratio") and not isinstance(value, float):
        return int(value)
    return value


def handler(event, context):
    user_id = (event.get("pathParameters") or {}).get("userId", "")
    reply = dynamodb.get_item(TableName=TABLE, Key={"userId": {"S": user_id}},
                              ConsistentRead=True)
    item = reply.get("Item")
    if item is None:
        body = {"type": "about:blank", "title": "Not Found", "status": 404,
                "code": "NOT_FOUND", "detail": "no such user"}
        return {"statusCode": 404, "headers": dict(HEADERS), "body": json.dumps(body)}
    user = {k: _plain(_deserialize(v)) for k, v in item.items() if k != "emailLower"}
    headers = dict(HEADERS, ETag='"%d"' % user["version"])
    return {"statusCode": 200, "headers": headers, "body": json.dumps(user)}
