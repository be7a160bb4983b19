"""A reassignment tells the staff it adds, once, through the outbox like any notification; the HTTP
function only queues the message."""

import pytest
from sqlalchemy import select

from tests.casework import HAZARD, seed, token_for
from minqing.store import changes
from workers.compose import ACTIONABLE, template_event
from minqing.store.tables import outbox
from workers.templates import note, render


@pytest.fixture()
def hazard(runtime, stub_worker, settings):
    [case] = seed(runtime, settings, ("hazard", HAZARD[0]))  # 千家街 structure: qjj-grid and safety-office
    return case


@pytest.fixture()
def leader(engine):
    return token_for(engine, "street-leader")


def assign(client, runtime, settings, headers, case_id, *assignees):
    response = client.post(f"/api/v1/cases/{case_id}/actions", json={"action": "assign", "assignees": list(assignees)},
                           headers=headers)
    assert response.status_code == 200, response.json
    runtime.broker.join(settings.queue_name)
    return response.json


def told(engine, case_id) -> list[tuple[str, str, str]]:
    """(event, recipient, status) of every reassignment notice of the case, in order."""
    with engine.connect() as c:
        found = c.execute(select(outbox).where(outbox.c.submission_id == case_id, outbox.c.event.like("assigned-%"))
                          .order_by(outbox.c.id)).all()
    return [(r.event, r.recipient, r.status) for r in found]


def test_only_the_staff_a_reassignment_adds_are_told(client, runtime, settings, engine, hazard, leader):
    case = assign(client, runtime, settings, leader, hazard["id"], "qjj-grid", "qjj-secretary")
    [(event, recipient, status)] = told(engine, hazard["id"])
    assert (recipient, status) == ("qjj-secretary", "sent") and event.startswith("assigned-")
    assert case["history"][-1]["details"] == {"assignees": ["qjj-grid", "qjj-secretary"], "added": ["qjj-secretary"]}
    with engine.connect() as c:
        [row] = c.execute(select(outbox).where(outbox.c.event == event)).all()
    assert "转派给您" in row.subject and hazard["receipt"] in row.subject
    assert row.body.splitlines()[0] == "街道分管领导（示例）将此件转派给您。"


def test_the_same_request_again_tells_nobody_and_a_later_reassignment_tells_again(
        client, runtime, settings, engine, hazard, leader):
    assign(client, runtime, settings, leader, hazard["id"], "qjj-secretary")
    assign(client, runtime, settings, leader, hazard["id"], "qjj-secretary")  # a retried request: nobody new
    assert [r for _, r, _ in told(engine, hazard["id"])] == ["qjj-secretary"]
    assign(client, runtime, settings, leader, hazard["id"], "qjj-grid")
    assign(client, runtime, settings, leader, hazard["id"], "qjj-secretary")  # back again: told again
    notices = told(engine, hazard["id"])
    assert [r for _, r, _ in notices] == ["qjj-secretary", "qjj-grid", "qjj-secretary"]
    assert len({event for event, _, _ in notices}) == 3


def test_a_redelivered_message_sends_nothing_twice(client, runtime, settings, engine, hazard, leader):
    assign(client, runtime, settings, leader, hazard["id"], "qjj-secretary")
    [(event, _, _)] = told(engine, hazard["id"])
    runtime.broker.actors["notify_assignees"].send(hazard["id"], event)
    runtime.broker.join(settings.queue_name)
    assert told(engine, hazard["id"]) == [(event, "qjj-secretary", "sent")]


def test_a_queue_that_refuses_the_notice_leaves_the_case_as_it_was(client, runtime, engine, hazard, leader,
                                                                  monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(runtime.broker, "enqueue", refuse)
    response = client.post(f"/api/v1/cases/{hazard['id']}/actions", headers=leader,
                           json={"action": "assign", "assignees": ["qjj-secretary"]})
    assert response.status_code == 503 and response.headers["Retry-After"]
    monkeypatch.undo()
    case = client.get(f"/api/v1/cases/{hazard['id']}", headers=leader).json
    assert case["assignees"] == ["qjj-grid", "safety-office"] and case["history"][-1]["action"] is None


def test_the_worker_waits_for_a_step_it_cannot_see_yet(engine, hazard):
    with engine.connect() as c, pytest.raises(LookupError):
        changes.newly_assigned(c, hazard["id"], changes.assigned_event(987654))


def test_the_assigned_notice_is_short_and_carries_one_tap_links():
    assert template_event("assigned-41") in ACTIONABLE
    for lang, words in (("zh", "转派给您"), ("en", "Assigned to you")):
        why = note("assigned", names=["杨书记"], lang=lang)
        text = render(kind="hazard", event="assigned", receipt="HK3D-9F2A-XQ4M", data=HAZARD[0],
                      community_name="千家街社区", lang=lang, masked=False, note=why)
        assert words in text.subject and text.body.startswith(why)
        assert len(text.body) <= 200  # an SMS of a few segments, before the links
