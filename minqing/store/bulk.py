"""Storing many cases at once, as the store path stores them one by one: the same submission rows
(`changes.submission_values`), the same first history row, the same search index rows, and the tallies (and
their rollups), tally events and case durations the live path counts (replayed by `minqing.domain.replay`, the function
the recount uses). For seeding a big database (bench/data_volume.py) and loading history; executemany in
big batches, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy.engine import Connection

from minqing.domain.replay import replay
from minqing.store import base, rollups, search_index
from minqing.store.changes import submission_values
from minqing.store.tables import (
    assignments,
    case_durations,
    feedback,
    status_history,
    submissions,
    tallies,
    tally_events,
)


def store_cases(connection: Connection, cases: list[dict], *, now: datetime) -> int:
    """Store `cases`, each {"envelope", "due_at", "assignees": [...], "steps": [{status, action, at, actor,
    details}], "status", "feedback": {rating, fixed, comment, at} or None}; their counts as of `now`."""
    rows, history, given, assigned, guards, durations = [], [], [], [], [], []
    sums: dict = defaultdict(float)
    for case in cases:
        values = submission_values(case["envelope"], due_at=case.get("due_at"), stored_at=case.get("stored_at"))
        steps = [dict(submission_id=values["id"], status="received", at=values["submitted_at"], actor="system",
                      note="", action=None, photos=None, details=None)]
        steps += [dict(submission_id=values["id"], note="", photos=None, **step) for step in case.get("steps", ())]
        last = steps[-1]
        values.update(status=case.get("status") or last["status"], updated_at=last["at"])
        for key in ("duplicate_of", "outcome"):
            if case.get(key) is not None:
                values[key] = case[key]
        rows.append(values)
        history.extend(steps)
        rated = case.get("feedback")
        if rated:
            given.append(dict(submission_id=values["id"], **rated))
        assigned.extend(dict(submission_id=values["id"], staff_id=staff, position=n, assigned_at=values["stored_at"])
                        for n, staff in enumerate(case.get("assignees", ())))
        for counted in replay(SimpleNamespace(**values), [SimpleNamespace(**s) for s in steps],
                              SimpleNamespace(**rated) if rated else None, now):
            guards.append(dict(submission_id=values["id"], event=counted.event, at=now))
            for i in counted.increments:
                sums[(i.metric, i.kind, i.community, i.category, i.day)] += i.value
            if counted.duration:
                durations.append(counted.duration)
    connection.execute(submissions.insert(), rows)
    search_index.index_rows(connection, [(r["id"], r["search_grams"]) for r in rows])
    connection.execute(status_history.insert(), history)
    for table, found in ((feedback, given), (assignments, assigned), (tally_events, guards),
                         (case_durations, durations)):
        if found:
            connection.execute(table.insert(), found)
    if sums:
        connection.execute(base.adding_to(connection.dialect.name, tallies), [
            {"metric": m, "kind": k, "community": c, "category": g, "day": d, "value": v}
            for (m, k, c, g, d), v in sums.items()])
    rollups.add(connection, sums, durations)
    return len(rows)
