"""Lambda events in the shapes AWS sends them: API Gateway REST (payload 1.0), HTTP API (payload 2.0)
and SQS batches, after the examples in the API Gateway and Lambda developer guides."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from urllib.parse import parse_qsl, urlsplit


def _body(body: bytes | str | None, base64_encoded: bool) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    raw = body.encode() if isinstance(body, str) else body
    if base64_encoded:
        return base64.b64encode(raw).decode(), True
    return raw.decode(), False


def rest_v1(method: str, url: str, *, headers: dict | None = None, body=None, base64_encoded=False,
            resource: str = "/{proxy+}") -> dict:
    """An API Gateway REST API proxy event (payload format 1.0)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    headers = {"Host": "abc123.execute-api.cn-north-1.amazonaws.com.cn", "User-Agent": "Mozilla/5.0 (iPhone)",
               "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443",
               **(headers or {})}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    text, encoded = _body(body, base64_encoded)
    return {
        "resource": resource,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "resourceId": "us4z18", "stage": "prod",
            "requestId": str(uuid.uuid4()), "httpMethod": method, "path": "/prod" + parts.path,
            "resourcePath": resource, "protocol": "HTTP/1.1", "requestTimeEpoch": int(time.time() * 1000),
            "domainName": headers["Host"], "identity": {"sourceIp": "203.0.113.7", "userAgent": headers["User-Agent"]},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def http_v2(method: str, url: str, *, headers: dict | None = None, body=None, base64_encoded=False) -> dict:
    """An API Gateway HTTP API event (payload format 2.0): lower-case headers, cookies apart, raw query."""
    parts = urlsplit(url)
    headers = {"host": "xyz789.execute-api.cn-north-1.amazonaws.com.cn", "user-agent": "Mozilla/5.0 (Android)",
               "x-forwarded-for": "198.51.100.20", "x-forwarded-proto": "https", "x-forwarded-port": "443",
               **{k.lower(): v for k, v in (headers or {}).items()}}
    query = parse_qsl(parts.query, keep_blank_values=True)
    text, encoded = _body(body, base64_encoded)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "xyz789", "domainName": headers["host"], "domainPrefix": "xyz789",
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.20",
                     "userAgent": headers["user-agent"]},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()), "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = {k: v for k, v in query}
    if text is not None:
        event["body"] = text
    return event


def sqs_batch(bodies: list[str], *, queue_arn: str = "arn:aws:sqs:cn-north-1:123456789012:minqing",
              receive_count: int = 1) -> dict:
    """An SQS event source mapping's batch: one record per message body."""
    return {"Records": [{
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(int(time.time() * 1000)),
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    } for body in bodies]}


class LambdaContext:
    """The few attributes of Lambda's context object that handlers read."""

    function_name = "minqing-test"
    memory_limit_in_mb = 512
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
