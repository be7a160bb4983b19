"""The case workflow: legal moves, illegal ones with the allowed list, and history."""

import pytest

from minqing.domain import workflow
from minqing.store import cases, changes
from minqing.domain.workflow import IllegalTransition
from tests.test_pipeline import HAZARD, deliver, envelope


def test_a_case_moves_from_received_to_closed():
    status = "received"
    for action in ("acknowledge", "start", "resolve", "close"):
        status = workflow.apply(status, action).after
    assert status == "closed"


def test_an_illegal_move_names_the_allowed_ones():
    with pytest.raises(IllegalTransition) as raised:
        workflow.apply("closed", "resolve")
    assert raised.value.allowed == ("reopen",)


def test_a_resolved_case_can_be_reopened_and_worked_again():
    assert workflow.apply("resolved", "reopen").after == "reopened"
    assert workflow.apply("reopened", "start").after == "in_progress"


def test_every_status_has_its_allowed_actions():
    assert set(workflow.ALLOWED) == set(workflow.STATUSES)


def test_a_transition_updates_the_status_and_records_who_did_it(runtime, stub_worker, engine, settings):
    message = envelope(settings, "hazard", HAZARD[0])
    deliver(runtime, message)
    with engine.begin() as c:
        changes.transition(c, message["id"], "acknowledge", actor="qjj-grid", note="已到现场")
    with engine.connect() as c:
        status = cases.public_status(c, message["receipt"])
    assert status["status"] == "acknowledged"
    assert [h["status"] for h in status["history"]] == ["received", "acknowledged"]
