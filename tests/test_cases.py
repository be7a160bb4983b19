"""The case workflow: legal moves, illegal ones with the allowed list, and history."""

import pytest

from workers import cases, queries
from workers.cases import IllegalTransition
from tests.test_pipeline import HAZARD, deliver, envelope


def test_a_case_moves_from_received_to_closed():
    status = "received"
    for action in ("acknowledge", "start", "resolve", "close"):
        status = cases.apply(status, action).after
    assert status == "closed"


def test_an_illegal_move_names_the_allowed_ones():
    with pytest.raises(IllegalTransition) as raised:
        cases.apply("closed", "resolve")
    assert raised.value.allowed == ("reopen",)


def test_a_resolved_case_can_be_reopened_and_worked_again():
    assert cases.apply("resolved", "reopen").after == "reopened"
    assert cases.apply("reopened", "start").after == "in_progress"


def test_every_status_has_its_allowed_actions():
    assert set(cases.ALLOWED) == set(cases.STATUSES)


def test_a_transition_updates_the_status_and_records_who_did_it(runtime, stub_worker, engine, settings):
    message = envelope(settings, "hazard", HAZARD[0])
    deliver(runtime, message)
    with engine.begin() as c:
        queries.transition(c, message["id"], "acknowledge", actor="qjj-grid", note="已到现场")
    with engine.connect() as c:
        status = queries.public_status(c, message["receipt"])
    assert status["status"] == "acknowledged"
    assert [h["status"] for h in status["history"]] == ["received", "acknowledged"]
