"""The HTTP functions on the Flask test client and a stub broker: answers, errors, idempotency."""

import json

import pytest

from tests.conftest import SAMPLES

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())
CONSULTATION = json.loads((SAMPLES / "consultation.json").read_text())
ENTERPRISE = json.loads((SAMPLES / "enterprise.json").read_text())
ENDPOINTS = {
    "hazard": ("/api/v1/hazard-reports", HAZARD),
    "consultation": ("/api/v1/consultations", CONSULTATION),
    "enterprise": ("/api/v1/enterprise-requests", ENTERPRISE),
}


@pytest.fixture()
def queued(stub_broker, settings):
    from dramatiq import Message

    def messages():
        return [Message.decode(m) for m in stub_broker.queues[settings.queue_name].queue]
    return messages


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_every_valid_sample_is_accepted_and_queued(client, queued, kind):
    path, samples = ENDPOINTS[kind]
    for sample in samples["valid"]:
        response = client.post(path, json=sample)
        assert response.status_code == 202, response.json
        body = response.json
        assert body["status"] == "received"
        assert response.headers["Location"] == body["status_url"]
        assert body["status_url"].endswith("/api/v1/receipts/" + body["receipt"])
    assert len(queued()) == len(samples["valid"])


def test_a_base_url_with_a_chinese_host_name_gives_a_location_in_punycode(settings, stub_broker, engine):
    from functions.app import create_app

    stub_broker.declare_queue(settings.queue_name)
    client = create_app(settings.with_overrides(base_url="https://民情.example/街道"), broker=stub_broker).test_client()
    response = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0])
    assert response.status_code == 202
    assert response.headers["Location"] == response.json["status_url"]
    assert response.headers["Location"].startswith("https://xn--")
    assert "/%E8%A1%97%E9%81%93/api/v1/receipts/" in response.headers["Location"]


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_every_invalid_sample_is_a_422_naming_the_field(client, queued, kind):
    path, samples = ENDPOINTS[kind]
    for case in samples["invalid"]:
        response = client.post(path, json=case["case"])
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert case["expect_error"] in response.json["errors"], response.json
    assert queued() == []


def test_errors_are_in_chinese_by_default_and_english_on_request(client):
    bad = HAZARD["invalid"][0]["case"]
    zh = client.post("/api/v1/hazard-reports", json=bad).json
    en = client.post("/api/v1/hazard-reports?lang=en", json=bad).json
    by_header = client.post("/api/v1/hazard-reports", json=bad, headers={"Accept-Language": "en-US,en;q=0.9"}).json
    assert zh["title"] == "提交内容未通过校验"
    assert en["title"] == "Validation failed"
    assert by_header["errors"] == en["errors"]
    assert zh["errors"]["description"] != en["errors"]["description"]


def test_a_form_post_with_dotted_names_is_accepted(client, queued):
    form = {
        "community": "jiangling",
        "category": "ev_charging",
        "description": "楼道里充电",
        "location.address": "江零社区5栋",
        "location.lat": "",
        "contact.name": "李师傅",
        "contact.phone": "19912345678",
    }
    response = client.post("/api/v1/hazard-reports", data=form)
    assert response.status_code == 202, response.json
    data = queued()[0].args[0]["data"]
    assert data["location"] == {"address": "江零社区5栋"}
    assert data["contact"]["phone"] == "19912345678"


def test_a_form_post_with_an_error_names_the_dotted_field(client):
    response = client.post("/api/v1/hazard-reports", data={
        "community": "jiangling", "category": "fire_safety", "description": "灭火器过期",
        "location.address": "x", "location.lat": "91", "location.lon": "114.3"})
    assert response.status_code == 422
    assert "location.lat" in response.json["errors"]


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    (b'{"beneficiaries": ' + b"9" * 10_000 + b"}", "application/json"),
])
def test_malformed_bodies_are_a_400(client, body, content_type):
    response = client.post("/api/v1/consultations", data=body, content_type=content_type)
    assert response.status_code in (400, 413)
    assert response.mimetype == "application/problem+json"


def test_a_body_over_the_limit_is_a_413(client):
    response = client.post("/api/v1/hazard-reports", data=b"x" * (65 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.json["status"] == 413


@pytest.mark.parametrize("path, content_type", [
    ("/api/v1/hazard-reports", "text/plain"),
    ("/api/v1/hazard-reports", "application/xml"),
    # Only forms with photos take multipart bodies (a phone's form posted without JavaScript).
    ("/api/v1/consultations", "multipart/form-data; boundary=x"),
])
def test_other_content_types_are_a_415(client, path, content_type):
    response = client.post(path, data=b"hello", content_type=content_type)
    assert response.status_code == 415
    assert response.json["type"] == "urn:minqing:problem:unsupported-media-type"


def test_a_client_cannot_set_status_or_assignee(client):
    report = dict(HAZARD["valid"][0], status="resolved", assignee="me", id="x")
    response = client.post("/api/v1/hazard-reports", json=report)
    assert response.status_code == 422
    assert {"status", "assignee", "id"} <= set(response.json["errors"])


def test_a_retry_with_the_same_idempotency_key_gets_the_same_receipt(client):
    headers = {"Idempotency-Key": "phone-retry-1"}
    first = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0], headers=headers).json
    again = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0], headers=headers).json
    assert (again["id"], again["receipt"]) == (first["id"], first["receipt"])


def test_client_ref_in_the_body_works_like_the_header(client):
    form = dict(HAZARD["valid"][2], client_ref="0b8f7a5e-2d5c-4c39-9a55-0f0c4b3e9d11")
    first = client.post("/api/v1/hazard-reports", json=form).json
    again = client.post("/api/v1/hazard-reports", json=form).json
    assert first["receipt"] == again["receipt"]


def test_an_unusable_idempotency_key_is_a_400(client):
    response = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0], headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400


def test_a_queue_that_refuses_gives_503_with_retry_after(app, client, monkeypatch):
    def refuse(envelope):
        raise ConnectionError("queue down")

    monkeypatch.setattr(app.extensions["minqing"], "enqueue_submission", refuse)
    response = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"


def test_an_invented_receipt_is_a_404(client):
    assert client.get("/api/v1/receipts/H7K3-D9F2-AXQ4").status_code == 404


def test_a_queued_but_unstored_receipt_answers_received(client):
    receipt = client.post("/api/v1/hazard-reports", json=HAZARD["valid"][0]).json["receipt"]
    body = client.get(f"/api/v1/receipts/{receipt}").json
    assert body["status"] == "received"
    assert body["kind"] == "hazard"


def test_unknown_paths_and_methods_are_problems(client):
    assert client.get("/nope").mimetype == "application/problem+json"
    response = client.get("/api/v1/hazard-reports")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
