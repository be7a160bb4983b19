"""Through the real path: `minqing serve` over HTTP → queue → workers → database, on every backend."""

import json

import pytest
from sqlalchemy import func, select

from tests.conftest import SAMPLES, wait_until
from minqing.store.engine import make_engine
from minqing.store.tables import outbox, submissions, tally_events

pytestmark = pytest.mark.integration

FORMS = [
    ("/api/v1/hazard-reports", json.loads((SAMPLES / "hazard.json").read_text())["valid"][0]),
    ("/api/v1/consultations", json.loads((SAMPLES / "consultation.json").read_text())["valid"][0]),
    ("/api/v1/enterprise-requests", json.loads((SAMPLES / "enterprise.json").read_text())["valid"][0]),
]


def database(server):
    return make_engine(server.env.get("MINQING_DATABASE_URL") or
                       f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db")


def test_each_form_is_stored_routed_notified_and_counted(live_server):
    receipts = []
    for path, form in FORMS:
        response = live_server.post(path, json=form)
        assert response.status_code == 202, response.text
        receipts.append(response.json()["receipt"])

    for receipt in receipts:
        status = wait_until(lambda: (s := live_server.get(f"/api/v1/receipts/{receipt}").json())["submitted_at"] and s)
        assert status["status"] == "received"
        assert "contact" not in json.dumps(status)

    engine = database(live_server)
    def settled():
        with engine.connect() as c:
            sent = c.execute(select(func.count()).where(outbox.c.status == "sent")).scalar_one()
            total = c.execute(select(func.count()).select_from(outbox)).scalar_one()
            counted = c.execute(select(func.count()).select_from(tally_events)).scalar_one()
        return total and sent == total and counted == 3
    wait_until(settled)
    engine.dispose()

    tallies = live_server.get("/api/v1/tallies").json()
    assert tallies["totals"]["hazard"]["received"] == 1
    assert tallies["totals"]["consultation"]["sessions"] == 1
    assert tallies["totals"]["enterprise"]["received"] == 1
    assert tallies["street"]["code"] == "shouyilu"


def test_a_form_encoded_post_from_a_phone_works(live_server):
    response = live_server.post("/api/v1/hazard-reports", data={
        "community": "jiangling", "category": "lighting", "description": "路灯不亮",
        "location.address": "江零社区东门", "location.spot": "jl-gate-e"})
    assert response.status_code == 202, response.text


def test_a_retry_with_the_same_key_is_stored_once(live_server):
    path, form = FORMS[0]
    headers = {"Idempotency-Key": "retry-from-a-weak-network"}
    first = live_server.post(path, json=form, headers=headers).json()
    engine = database(live_server)
    def stored():
        with engine.connect() as c:
            return c.execute(select(func.count()).select_from(submissions)).scalar_one() == 1
    wait_until(stored)
    again = live_server.post(path, json=form, headers=headers)
    assert again.status_code == 202
    assert again.json()["receipt"] == first["receipt"]
    changed = live_server.post(path, json=dict(form, description="另一件事"), headers=headers)
    assert changed.status_code == 422
    assert changed.headers["Content-Type"].startswith("application/problem+json")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(submissions)).scalar_one() == 1
    engine.dispose()


def test_the_service_reports_ready(live_server):
    response = live_server.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"queue": "ok", "database": "ok"}
