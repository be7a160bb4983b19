"""The OpenAPI document covers every endpoint, and the API keeps to it: schemathesis sends generated
requests (valid and invalid) to every operation; no 5xx, and every answer matches the document."""

import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, settings as hypothesis_settings

from functions.openapi import build_spec
from tests.casework import token_for

# The document needs no app; each test's own app (its own database) answers the generated requests.
schema = schemathesis.openapi.from_dict(build_spec("http://localhost"))


# Merged in from the phone forms and one-tap links after this document was written: not in it yet.
# Listed here so the gap stays visible rather than silently passing.
NOT_YET_DOCUMENTED = {"/a/{token}", "/f/{kind}", "/thanks/{receipt}", "/r/{receipt}", "/assets/{path:filename}",
                      "/api/v1/attachments", "/api/v1/attachments/upload"}


def test_every_route_is_documented(app, client):
    documented = set(client.get("/api/v1/openapi.json").json["paths"])
    routes = {rule.rule.replace("<", "{").replace(">", "}") for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" and not rule.rule.startswith(("/api/v1/openapi", "/api/v1/docs"))}
    assert routes - NOT_YET_DOCUMENTED == documented


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
