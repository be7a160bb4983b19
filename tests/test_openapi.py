"""The OpenAPI document covers every endpoint, and the API keeps to it: schemathesis sends generated
requests (valid and invalid) to every operation; no 5xx, and every answer matches the document."""

import re

import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, settings as hypothesis_settings

from functions.openapi import build_spec
from tests.casework import token_for

# The document needs no app; each test's own app (its own database) answers the generated requests.
schema = schemathesis.openapi.from_dict(build_spec("http://localhost"))


def test_every_route_and_method_is_documented(app, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    documented = {(path, method) for path, operations in paths.items() for method in operations}
    # Flask's `<path:filename>` is OpenAPI's `{filename}`.
    routes = {(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
              if rule.endpoint != "static" and not rule.rule.startswith(("/api/v1/openapi", "/api/v1/docs"))}
    assert routes == documented


def test_the_docs_page_is_served_without_outside_resources(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/cases/{case_id}/actions" in page and "HazardReport" in page
    assert "http" not in page.replace("http://localhost", "").split("<body>")[0]  # no CDN in the head
    assert "<script" not in page


# What "keeps to its document" means: never a 5xx, and status, media type, headers and body as documented.
# Not checked: that every schema-valid request is accepted. The document cannot say everything the forms
# check (known communities, a real mobile number, a date within the last year, fields that go together),
# so a generated request may rightly get a documented 422.
KEPT_TO = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
           checks.response_headers_conformance, checks.response_schema_conformance]


@schema.parametrize()
@hypothesis_settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case, app, engine):
    case.operation.schema.app = app
    case.call_and_validate(headers=token_for(engine, "street-leader"), app=app, checks=KEPT_TO)
