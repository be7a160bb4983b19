"""The actors on a stub broker: stored, routed, notified and counted once, however often delivered."""

import json
from datetime import datetime, timezone

from sqlalchemy import func, select

from minqing.receipts import body_hash, receipt_for, submission_id
from tests.conftest import SAMPLES, wait_until
from minqing.store import cases, counts, dead_letters
from workers.actors import store_submission
from workers.notifications import deliver_notification
from minqing.store.tables import assignments, outbox, submissions, tally_events

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"]
CONSULTATION = json.loads((SAMPLES / "consultation.json").read_text())["valid"]


def envelope(settings, kind, data, key=None):
    sid = submission_id(settings.secret_key, kind, key)
    return {
        "id": sid,
        "receipt": receipt_for(settings.secret_key, kind, sid),
        "kind": kind,
        "data": data,
        "idempotency_key": key,
        "lang": "zh-CN",
        # Now, not a fixed day: a case submitted long ago is overdue and would escalate at once.
        "submitted_at": datetime.now(timezone.utc).isoformat(),
    }


def deliver(runtime, message, times=1):
    for _ in range(times):
        store_submission.send(message)
    runtime.broker.join(runtime.settings.queue_name)


def count(engine, table):
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_submission_is_stored_routed_notified_and_counted(runtime, stub_worker, engine, settings):
    message = envelope(settings, "hazard", HAZARD[0])
    deliver(runtime, message)
    with engine.connect() as c:
        row = cases.submission(c, message["id"])
        staff = cases.assignees(c, message["id"])
        sent = c.execute(select(outbox.c.status)).scalars().all()
    assert row.receipt == message["receipt"]
    assert row.payload == HAZARD[0]
    assert staff[0] == "qjj-grid" and "safety-office" in staff
    assert sent == ["sent"] * len(staff)
    assert count(engine, tally_events) == 1


def test_the_same_message_delivered_three_times_has_each_effect_once(runtime, stub_worker, engine, settings):
    message = envelope(settings, "hazard", HAZARD[1])
    deliver(runtime, message, times=3)
    assert count(engine, submissions) == 1
    assert count(engine, assignments) == count(engine, outbox) >= 1
    assert count(engine, tally_events) == 1
    with engine.connect() as c:
        summary = [(r.metric, r.value) for r in counts.tally_rows(c)]
    assert sorted(summary) == [("patrol_findings", 1), ("received", 1)]  # HAZARD[1] is a patrol's finding


def test_a_notification_is_not_sent_twice(runtime, stub_worker, engine, settings, caplog):
    message = envelope(settings, "hazard", HAZARD[4])
    with caplog.at_level("INFO", logger="minqing.notify"):
        deliver(runtime, message, times=3)
        with engine.connect() as c:
            ids = c.execute(select(outbox.c.id)).scalars().all()
        for outbox_id in ids:
            deliver_notification.send(outbox_id)
        runtime.broker.join(settings.queue_name)
    lines = [r.getMessage() for r in caplog.records if r.name == "minqing.notify"]
    assert len(lines) == len(ids)


def test_notifications_mask_the_residents_phone_and_name(runtime, stub_worker, engine, settings):
    deliver(runtime, envelope(settings, "hazard", HAZARD[0]))
    with engine.connect() as c:
        body = c.execute(select(outbox.c.body)).scalars().first()
    assert "13871234567" not in body and "138****4567" in body
    assert "王阿姨" not in body


def test_a_reported_session_counts_sessions_beneficiaries_and_hours(runtime, stub_worker, engine, settings):
    for data in CONSULTATION:
        deliver(runtime, envelope(settings, "consultation", data))
    with engine.connect() as c:
        totals = {}
        for r in counts.tally_rows(c):
            totals[r.metric] = totals.get(r.metric, 0) + r.value
    assert totals == {"received": 4, "sessions": 2, "beneficiaries": 48, "hours": 15.5}


def test_tallies_rebuilt_from_records_are_the_same(runtime, stub_worker, engine, settings):
    for data in HAZARD:
        deliver(runtime, envelope(settings, "hazard", data), times=2)
    for data in CONSULTATION:
        deliver(runtime, envelope(settings, "consultation", data))
    with engine.begin() as c:
        before = sorted(tuple(r) for r in counts.tally_rows(c))
        counts.rebuild_tallies(c)
        after = sorted(tuple(r) for r in counts.tally_rows(c))
    assert before == after


def test_a_reused_key_with_another_body_keeps_the_first(runtime, stub_worker, engine, settings):
    first = envelope(settings, "hazard", HAZARD[0], key="k1")
    second = dict(first, data=HAZARD[1])
    deliver(runtime, first)
    deliver(runtime, second)
    with engine.connect() as c:
        assert cases.submission(c, first["id"]).payload == HAZARD[0]
    assert count(engine, tally_events) == 1


def test_a_message_queued_by_an_earlier_version_with_its_own_body_hash_is_stored_alike(runtime, stub_worker, engine,
                                                                                       settings):
    message = dict(envelope(settings, "hazard", HAZARD[0], key="k2"), body_hash="computed by the web process")
    deliver(runtime, message)
    with engine.connect() as c:
        assert cases.body_hash_of(c, message["id"]) == body_hash(HAZARD[0])


def test_an_enterprise_request_goes_to_its_official_first(runtime, stub_worker, engine, settings):
    data = json.loads((SAMPLES / "enterprise.json").read_text())["valid"][0]
    message = envelope(settings, "enterprise", data)
    deliver(runtime, message)
    with engine.connect() as c:
        staff = cases.assignees(c, message["id"])
    official = runtime.directory.enterprise_assignments[data["enterprise"]["uscc"]]
    assert staff[0] == official


def test_a_message_that_keeps_failing_ends_in_the_dead_letters(runtime, stub_worker, engine, settings):
    broken = envelope(settings, "hazard", HAZARD[0])
    del broken["data"]
    store_submission.send(broken)
    runtime.broker.join(settings.queue_name, fail_fast=False)

    def recorded():
        with engine.connect() as c:
            return dead_letters.list_dead_letters(c)
    letters = wait_until(recorded, timeout=5)
    assert [l.actor for l in letters] == [store_submission.actor_name]
    assert "KeyError" in letters[0].error
