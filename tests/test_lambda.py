"""The Lambda entry points answer API Gateway events (REST v1 and HTTP API v2) exactly as the WSGI app
answers the same requests, and the intake handlers import only what their path needs."""

import base64
import json
import os
import subprocess
import sys
import uuid
from urllib.parse import urlencode

import pytest

from minqing.settings import load_settings
from tests.conftest import SAMPLES
from minqing.testing.lambda_events import LambdaContext, http_v2, rest_v1

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())
CONSULTATION = json.loads((SAMPLES / "consultation.json").read_text())
ENTERPRISE = json.loads((SAMPLES / "enterprise.json").read_text())
FORMS = {
    "hazard": ("/api/v1/hazard-reports", HAZARD),
    "consultation": ("/api/v1/consultations", CONSULTATION),
    "enterprise": ("/api/v1/enterprise-requests", ENTERPRISE),
}
EVENTS = {"rest-v1": rest_v1, "http-v2": http_v2}


@pytest.fixture()
def handlers(base_env, monkeypatch):
    """Lambda handlers built as in Lambda (settings from the environment), on the embedded queue."""
    from functions.aws import handler_for

    for name, value in base_env.items():
        monkeypatch.setenv(name, value)
    return lambda area: handler_for(area)


@pytest.fixture()
def wsgi(base_env, engine):
    from functions.app import create_app

    os.makedirs(base_env["MINQING_DATA_DIR"], exist_ok=True)
    return create_app(load_settings(base_env)).test_client()


def answer(response: dict) -> tuple[int, str, dict]:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = values[-1]
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return response["statusCode"], headers.get("content-type", ""), json.loads(body)


def same_as_wsgi(wsgi_response) -> tuple[int, str, dict]:
    return wsgi_response.status_code, wsgi_response.headers["Content-Type"], wsgi_response.json


@pytest.mark.parametrize("payload", EVENTS)
@pytest.mark.parametrize("kind", FORMS)
def test_a_json_post_gets_the_same_answer_as_over_wsgi(handlers, wsgi, payload, kind):
    path, samples = FORMS[kind]
    body = json.dumps(samples["valid"][0], ensure_ascii=False)
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"lambda-{payload}-{kind}"}
    event = EVENTS[payload]("POST", path, headers=headers, body=body)
    from_lambda = answer(handlers(kind)(event, LambdaContext()))
    assert from_lambda[0] == 202
    assert from_lambda == same_as_wsgi(wsgi.post(path, data=body.encode(), headers=headers))


@pytest.mark.parametrize("payload", EVENTS)
def test_a_base64_form_post_is_decoded_like_a_browser_form(handlers, wsgi, payload):
    form = {"community": "jiangling", "category": "lighting", "description": "路灯不亮，晚上看不清台阶",
            "location.address": "江零社区东门", "client_ref": str(uuid.uuid5(uuid.NAMESPACE_URL, payload))}
    body = urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    event = EVENTS[payload]("POST", "/api/v1/hazard-reports", headers=headers, body=body, base64_encoded=True)
    from_lambda = answer(handlers("hazard")(event, LambdaContext()))
    assert from_lambda[0] == 202
    assert from_lambda == same_as_wsgi(wsgi.post("/api/v1/hazard-reports", data=body, headers=headers))


@pytest.mark.parametrize("payload", EVENTS)
@pytest.mark.parametrize("case", [
    pytest.param((json.dumps(HAZARD["invalid"][0]["case"]), "application/json", False), id="invalid-field"),
    pytest.param(("community=x", "text/plain", False), id="wrong-content-type"),
    pytest.param((b"{\"description\": \"\xff\xfe\"}", "application/json", True), id="invalid-utf8"),
    pytest.param(("[1, 2", "application/json", False), id="malformed-json"),
])
def test_bad_input_gets_the_same_problem_as_over_wsgi(handlers, wsgi, payload, case):
    body, content_type, encoded = case
    headers = {"Content-Type": content_type, "Accept-Language": "en"}
    event = EVENTS[payload]("POST", "/api/v1/hazard-reports?lang=zh", headers=headers, body=body,
                            base64_encoded=encoded)
    from_lambda = answer(handlers("hazard")(event, LambdaContext()))
    raw = body if isinstance(body, bytes) else body.encode()
    assert from_lambda[0] in (400, 415, 422)
    assert from_lambda[1] == "application/problem+json"
    assert from_lambda == same_as_wsgi(wsgi.post("/api/v1/hazard-reports?lang=zh", data=raw, headers=headers))


@pytest.mark.parametrize("payload", EVENTS)
def test_receipts_and_tallies_answer_as_over_wsgi(handlers, wsgi, payload):
    accepted = wsgi.post("/api/v1/hazard-reports", json=HAZARD["valid"][1]).json
    receipt_path = f"/api/v1/receipts/{accepted['receipt']}"
    from_lambda = answer(handlers("receipts")(EVENTS[payload]("GET", receipt_path), LambdaContext()))
    assert from_lambda == same_as_wsgi(wsgi.get(receipt_path))
    assert from_lambda[2]["status"] == "received"
    tallies_path = "/api/v1/tallies?from=2026-01-01&lang=en"
    from_lambda = answer(handlers("tallies")(EVENTS[payload]("GET", tallies_path), LambdaContext()))
    assert from_lambda[0] == 200
    assert from_lambda == same_as_wsgi(wsgi.get(tallies_path))


def test_a_function_deployed_alone_serves_only_its_own_routes(handlers):
    event = http_v2("GET", "/api/v1/tallies")
    status, content_type, body = answer(handlers("hazard")(event, LambdaContext()))
    assert status == 404 and content_type == "application/problem+json"


# What the intake path must not import: the database layer, the AWS SDK and the worker side.
FORBIDDEN_ON_INTAKE = ("sqlalchemy", "alembic", "boto3", "botocore", "workers.actors", "minqing.store",
                       "workers.runtime", "workers.main", "psycopg", "redis", "pika")

COLD_START = """
import json, sys
from importlib import import_module
from minqing.testing.lambda_events import LambdaContext, http_v2
module = import_module(sys.argv[1])
event = http_v2("POST", sys.argv[2], headers={"Content-Type": "application/json"}, body=sys.argv[3])
status = module.handler(event, LambdaContext())["statusCode"]
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("kind", FORMS)
def test_an_intake_function_imports_no_database_aws_or_worker_code(base_env, kind):
    path, samples = FORMS[kind]
    os.makedirs(base_env["MINQING_DATA_DIR"])
    result = subprocess.run(
        [sys.executable, "-c", COLD_START, f"functions.aws.{kind}", path, json.dumps(samples["valid"][0])],
        env={**os.environ, **base_env}, capture_output=True, text=True, check=True,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["status"] == 202
    forbidden = [m for m in seen["modules"] if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_ON_INTAKE)]
    assert forbidden == []
