"""效果共评: residents rate a resolved case once; "fixed" closes it, "not fixed" reopens it; unrated cases
close by themselves after a period."""

from datetime import timedelta

import pytest

from minqing.receipts import feedback_code
from tests.casework import HAZARD, seed, token_for
from minqing.store import base, changes
from workers.sweep import sweep


@pytest.fixture()
def resolved(runtime, stub_worker, settings, engine):
    [case] = seed(runtime, settings, ("hazard", HAZARD[0]))
    with engine.begin() as c:
        changes.transition(c, case["id"], "resolve", actor="qjj-grid")
    return dict(case, feedback_code=feedback_code(settings.secret_key, case["id"]))


def rate(client, case, **body):
    """Feedback as the reporter gives it: with the case's feedback code."""
    return client.post(f"/api/v1/receipts/{case['receipt']}/feedback",
                       json={"feedback_code": case["feedback_code"], **body})


def test_feedback_on_a_resolved_case_is_taken_once(client, resolved):
    assert client.get(f"/api/v1/receipts/{resolved['receipt']}").json["feedback_open"] is True
    first = rate(client, resolved, rating=5, fixed=True, comment="修得很及时")
    assert first.status_code == 201 and first.json["status"] == "closed"
    again = rate(client, resolved, rating=1, fixed=False)
    assert again.status_code == 409
    assert again.json["type"] == "urn:minqing:problem:feedback-already-given"
    assert client.get(f"/api/v1/receipts/{resolved['receipt']}").json["feedback_open"] is False


def test_not_fixed_reopens_the_case(client, engine, resolved):
    response = rate(client, resolved, rating=2, fixed=False, comment="裂缝还在")
    assert response.json["status"] == "reopened"
    history = client.get(f"/api/v1/cases/{resolved['id']}", headers=token_for(engine, "qjj-grid")).json["history"]
    assert (history[-1]["actor"], history[-1]["note"]) == ("resident", "裂缝还在")


def test_feedback_before_resolution_is_refused(client, runtime, stub_worker, settings):
    [case] = seed(runtime, settings, ("hazard", HAZARD[1]))
    response = rate(client, dict(case, feedback_code=feedback_code(settings.secret_key, case["id"])), rating=4,
                    fixed=True)
    assert response.status_code == 409


def test_bad_feedback_is_422_and_an_unknown_receipt_404(client, resolved):
    response = rate(client, resolved, rating=6, fixed="maybe")
    assert response.status_code == 422 and set(response.json["errors"]) == {"rating", "fixed"}
    assert rate(client, dict(resolved, receipt="HXXX-XXXX-XXXX"), rating=5, fixed=True).status_code == 404


def test_a_form_post_from_the_receipt_page_works(client, resolved):
    response = client.post(f"/api/v1/receipts/{resolved['receipt']}/feedback",
                           data={"rating": "4", "fixed": "true", "comment": "好",
                                 "feedback_code": resolved["feedback_code"]})
    assert response.status_code == 201


def test_an_unrated_case_closes_after_the_period(client, engine, settings, resolved):
    later = base.now() + timedelta(days=settings.auto_close_days, minutes=1)
    assert sweep(engine, auto_close_days=settings.auto_close_days, at=later)["closed"] == 1
    assert client.get(f"/api/v1/receipts/{resolved['receipt']}").json["status"] == "closed"
    assert sweep(engine, auto_close_days=settings.auto_close_days, at=later)["closed"] == 0


def test_nothing_closes_before_the_period(engine, settings, resolved):
    assert sweep(engine, auto_close_days=settings.auto_close_days)["closed"] == 0
