"""Patrol counts in `patrol_tallies` (平安合伙人, team × community × month), written in the caller's transaction.

Each is made once per (case, event): the finding, round and resolution piggyback on the tallies' own
`tally_events` key (the caller counts them only when that key was new); a check has its key here.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from minqing.domain import patrol
from minqing.domain.patrol import PatrolIncrement
from minqing.store.base import insert_ignoring_known, now
from minqing.domain import workflow
from minqing.store.cases import _office_midnight
from minqing.store.tables import patrol_tallies, status_history, submissions, tally_events


@functools.cache
def _adding(dialect: str):
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(patrol_tallies)
    return statement.on_conflict_do_update(
        index_elements=["team", "community", "month", "metric"],
        set_={"value": patrol_tallies.c.value + statement.excluded.value},
    )


def add(connection: Connection, increments: list[PatrolIncrement]) -> None:
    statement = _adding(connection.dialect.name)
    for i in increments:
        connection.execute(statement, dict(team=i.team, community=i.community, month=i.month, metric=i.metric,
                                           value=i.value))


def count_finding(connection: Connection, row) -> None:
    add(connection, patrol.finding_increments(row.payload, row.submitted_at))


def count_round(connection: Connection, row) -> None:
    add(connection, patrol.round_increments(row.payload, row.submitted_at))


def count_resolution(connection: Connection, case, event: str, at: datetime, details: dict | None) -> None:
    add(connection, patrol.resolution_increments(case.payload, event, at, details))


def check_event(round_id: str) -> str:
    """The `tally_events` key of a check: one per case and round (a round's id is too long for the column)."""
    return "check-" + hashlib.sha256(round_id.encode()).hexdigest()[:20]


def count_check(connection: Connection, case, at: datetime, details: dict) -> bool:
    """Count a volunteer's check of a case once per round; True if this call counted it."""
    if not insert_ignoring_known(connection, tally_events, dict(
            submission_id=case.id, event=check_event(details.get("round") or ""), at=now())):
        return False
    add(connection, patrol.check_increments(case.community or "", at, details))
    return True


def clear(connection: Connection) -> None:
    connection.execute(delete(patrol_tallies))


def recount(connection: Connection, since: date | None = None, until: date | None = None) -> None:
    """Recount the whole months that the days [since, until] touch (every month when both are None), in
    the caller's transaction, as the live path counted them: a finding in the month it was filed, a round in
    the month of its first finding, a finding's first resolution, and each check once per case and round."""
    first_month = patrol.month_of(_office_midnight(since)) if since else None
    last_month = patrol.month_of(_office_midnight(until)) if until else None
    clauses = []
    if first_month:
        clauses.append(patrol_tallies.c.month >= first_month)
    if last_month:
        clauses.append(patrol_tallies.c.month <= last_month)
    connection.execute(delete(patrol_tallies).where(*clauses))
    in_months = lambda at: (first_month is None or patrol.month_of(at) >= first_month) and (  # noqa: E731
        last_month is None or patrol.month_of(at) <= last_month)
    findings = connection.execute(select(submissions.c.id, submissions.c.payload, submissions.c.submitted_at,
                                         submissions.c.community).where(submissions.c.kind == "hazard")
                                  .order_by(submissions.c.submitted_at, submissions.c.id),
                                  execution_options={"stream_results": True, "yield_per": 2000})
    patrol_cases, rounds = {}, set()
    for row in findings:
        if not (row.payload or {}).get("patrol"):
            continue
        patrol_cases[row.id] = row
        patrol_round = row.payload["patrol"].get("round")
        first_of_round = patrol_round and patrol_round not in rounds
        if patrol_round:
            rounds.add(patrol_round)
        if in_months(row.submitted_at):
            add(connection, patrol.finding_increments(row.payload, row.submitted_at))
            if first_of_round:
                add(connection, patrol.round_increments(row.payload, row.submitted_at))
    resolved, checked = set(), set()
    for step in connection.execute(select(status_history).order_by(status_history.c.at, status_history.c.id),
                                   execution_options={"stream_results": True, "yield_per": 2000}):
        details = step.details or {}
        if details.get("check"):
            key = (step.submission_id, details.get("round") or "")
            if key not in checked:
                checked.add(key)
                if in_months(step.at):
                    community = connection.execute(select(submissions.c.community).where(
                        submissions.c.id == step.submission_id)).scalar() or ""
                    add(connection, patrol.check_increments(community, step.at, details))
        case = patrol_cases.get(step.submission_id)
        if case is not None and step.status == "resolved" and step.action not in workflow.NOT_COUNTED \
                and case.id not in resolved:
            resolved.add(case.id)
            if in_months(step.at):
                add(connection, patrol.resolution_increments(case.payload, "resolved", step.at, details))


def patrol_rows(connection: Connection, *, since: str | None = None, until: str | None = None):
    """Rows (team, community, month, metric, value), months from `since` to `until` ("2026-01") included."""
    query = select(patrol_tallies)
    if since:
        query = query.where(patrol_tallies.c.month >= since)
    if until:
        query = query.where(patrol_tallies.c.month <= until)
    return connection.execute(query.order_by(patrol_tallies.c.month)).all()
