"""The bulk path (minqing/store/bulk.py, used by bench/data_volume.py) writes what the worker writes: a case
stored both ways is the same row, the same history, the same search index and the same counts."""

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from minqing.store import base, bulk, counts
from minqing.store.tables import assignments, status_history, submissions, tally_events
from minqing.testing.tallies import rollup_rows
from tests.casework import CONSULTATION, HAZARD, seed

LEFT_OUT = {"id", "receipt", "stored_at"}


def stored(engine, submission_id):
    with engine.connect() as c:
        row = c.execute(select(submissions).where(submissions.c.id == submission_id)).one()._asdict()
        steps = [(s.status, s.at, s.actor, s.note, s.action) for s in c.execute(
            select(status_history).where(status_history.c.submission_id == submission_id))]
        staff = [a.staff_id for a in c.execute(select(assignments).where(assignments.c.submission_id == submission_id)
                                               .order_by(assignments.c.position))]
        events = sorted(e.event for e in c.execute(select(tally_events).where(
            tally_events.c.submission_id == submission_id)))
        grams = c.execute(text("SELECT grams FROM case_grams WHERE submission_id = :id"), {"id": submission_id}).all()
    return {k: v for k, v in row.items() if k not in LEFT_OUT}, steps, staff, events, grams


def counted(engine) -> dict:
    """The tallies and their rollups, each row's sum by its key."""
    with engine.connect() as c:
        found = {tuple(r[:5]): r.value for r in counts.tally_rows(c)}
        for name, rows in rollup_rows(c).items():
            found.update({(name, *r[:-1]): r[-1] for r in rows})
    return found


def test_a_bulk_seeded_case_is_the_case_the_worker_stores(runtime, stub_worker, settings, engine):
    at = datetime.now(timezone.utc) - timedelta(hours=3)
    for kind, data in (("hazard", HAZARD[0]), ("consultation", CONSULTATION[0])):
        before = counted(engine)
        [by_worker] = seed(runtime, settings, (kind, data), submitted_at=at)
        after_worker = counted(engine)
        row, *_, staff, _events, _grams = stored(engine, by_worker["id"])
        twin = dict(by_worker, id=str(uuid.uuid4()), receipt="BULK" + uuid.uuid4().hex[:8].upper())
        with engine.begin() as c:
            bulk.store_cases(c, [{"envelope": twin, "due_at": row["due_at"], "assignees": staff}], now=base.now())
        assert stored(engine, twin["id"]) == stored(engine, by_worker["id"])
        after_bulk = counted(engine)
        added_by_worker = {k: v - before.get(k, 0) for k, v in after_worker.items() if v != before.get(k, 0)}
        added_by_bulk = {k: v - after_worker.get(k, 0) for k, v in after_bulk.items() if v != after_worker.get(k, 0)}
        assert added_by_bulk == added_by_worker
