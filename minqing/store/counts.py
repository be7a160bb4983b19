"""Counting the case workflow in the tallies: transitions, overdue cases and residents' feedback.

Each event is counted once per (case, event), guarded by the same `tally_events` key as "received", and
in the caller's transaction. The recount replays the stored history through the same functions, so a
rebuild gives the numbers the live path gave.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from minqing.domain import workflow
from minqing.domain.tallies import (
    TIMED_EVENTS,
    Increment,
    feedback_increments,
    increments_for,
    office_day,
    overdue_increments,
    round_increments,
    transition_increments,
)
from minqing.store import base, cases, patrol_counts
from minqing.store.base import insert_ignoring_known, now
from minqing.store.tables import (
    case_durations,
    feedback,
    status_history,
    submissions,
    tallies,
    tally_events,
)


def count_transition(connection: Connection, case, event: str, at: datetime, details: dict | None) -> None:
    """Count `case` (a submissions row) reaching `event` at `at`."""
    due = case.due_at
    on_time = None
    if event == "closed":
        # A case with no deadline (a logged session) cannot be late.
        resolved_at = _first_resolved(connection, case.id, at)
        on_time = resolved_at is not None and (due is None or resolved_at <= due)
    counted = apply_increments(
        connection, case.id, event,
        transition_increments(case.kind, case.payload, event, at, details, on_time=on_time))
    if counted:
        patrol_counts.count_resolution(connection, case, event, at, details)
    if counted and event in TIMED_EVENTS:
        base.insert_ignoring_known(connection, case_durations, dict(
            submission_id=case.id, event=event, kind=case.kind, community=case.community or "",
            category=case.category, day=office_day(at), seconds=(at - case.submitted_at).total_seconds()))
    if event == "resolved" and due is not None and at > due:
        count_overdue(connection, case)


def count_submission(connection: Connection, row) -> None:
    """Count a stored submission: received (and a patrol's finding), and the patrol round it opened."""
    if apply_increments(connection, row.id, "received", increments_for(row.kind, row.payload, row.submitted_at)):
        patrol_counts.count_finding(connection, row)
    patrol_round = (row.payload.get("patrol") or {}).get("round")
    if patrol_round and apply_increments(connection, patrol_round, "patrol-round",
                                         round_increments(row.kind, row.payload, row.submitted_at)):
        patrol_counts.count_round(connection, row)


def count_overdue(connection: Connection, case) -> bool:
    return apply_increments(connection, case.id, "overdue",
                                    overdue_increments(case.kind, case.payload, case.due_at))


def count_feedback(connection: Connection, case, at: datetime, rating: int, fixed: bool) -> bool:
    return apply_increments(
        connection, case.id, "feedback", feedback_increments(case.kind, case.payload, at, rating, fixed))


def count_overdue_cases(connection: Connection, at: datetime) -> int:
    """Count every open case past its due time that is not counted yet; returns how many were added."""
    found = connection.execute(select(submissions).where(cases.overdue_clause(at))).all()
    return sum(count_overdue(connection, case) for case in found)


def recount_workflow(connection: Connection) -> None:
    """Replay every recorded transition and feedback into the (already emptied) tallies."""
    connection.execute(delete(case_durations))
    by_id = {row.id: row for row in connection.execute(select(submissions))}
    history = connection.execute(select(status_history).order_by(status_history.c.at, status_history.c.id)).all()
    for step in history:
        if (step.details or {}).get("check") and step.submission_id in by_id:
            # A volunteer's check (核查): a record-only step when fixed, a reopening when not.
            patrol_counts.count_check(connection, by_id[step.submission_id], step.at, step.details)
        if step.action in (*workflow.RECORD_ONLY, workflow.CHECKED) or (step.action is None and step.status == "received"):
            continue
        case = by_id.get(step.submission_id)
        if case is not None:
            count_transition(connection, case, step.status, step.at, step.details)
    for given in connection.execute(select(feedback)).all():
        case = by_id.get(given.submission_id)
        if case is not None:
            count_feedback(connection, case, given.at, given.rating, bool(given.fixed))
    count_overdue_cases(connection, base.now())


def _first_resolved(connection: Connection, submission_id: str, before: datetime) -> datetime | None:
    return connection.execute(
        select(func.min(status_history.c.at)).where(
            status_history.c.submission_id == submission_id,
            status_history.c.status == "resolved",
            status_history.c.at <= before,
        )
    ).scalar_one_or_none()


def duration_rows(connection: Connection, *, since=None, until=None):
    query = select(case_durations)
    if since:
        query = query.where(case_durations.c.day >= since)
    if until:
        query = query.where(case_durations.c.day <= until)
    return connection.execute(query).all()




@functools.cache
def _adding_to_tallies(dialect: str):
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(tallies)
    return statement.on_conflict_do_update(
        index_elements=["metric", "kind", "community", "category", "day"],
        set_={"value": tallies.c.value + statement.excluded.value},
    )


def apply_increments(connection: Connection, submission_id: str, event: str, increments: list[Increment]) -> bool:
    """Count an event of a submission once; True if this call counted it."""
    if not insert_ignoring_known(connection, tally_events, dict(submission_id=submission_id, event=event, at=now())):
        return False
    statement = _adding_to_tallies(connection.dialect.name)
    for i in increments:
        connection.execute(
            statement,
            dict(metric=i.metric, kind=i.kind, community=i.community, category=i.category, day=i.day, value=i.value),
        )
    return True


def tally_rows(connection: Connection, *, since: date | None = None, until: date | None = None):
    query = select(tallies)
    if since:
        query = query.where(tallies.c.day >= since)
    if until:
        query = query.where(tallies.c.day <= until)
    return connection.execute(query.order_by(tallies.c.day)).all()


def rebuild_tallies(connection: Connection) -> int:
    """Recount every stored submission from scratch, and its history and feedback; returns how many."""
    connection.execute(delete(tallies))
    connection.execute(delete(tally_events))
    patrol_counts.clear(connection)
    count = 0
    for row in connection.execute(
        select(submissions.c.id, submissions.c.kind, submissions.c.payload, submissions.c.submitted_at)
        .order_by(submissions.c.submitted_at)
    ):
        count_submission(connection, row)
        count += 1
    recount_workflow(connection)
    return count
