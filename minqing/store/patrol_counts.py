"""Patrol counts in `patrol_tallies` (平安合伙人, team × community × month), written in the caller's transaction.

Each is made once per (case, event): the finding, round and resolution piggyback on the tallies' own
`tally_events` key (the caller counts them only when that key was new); a check has its key here.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import String, delete, literal_column, select
from sqlalchemy.engine import Connection

from minqing.domain import patrol
from minqing.domain.patrol import PatrolIncrement
from minqing.store import base
from minqing.store.base import insert_ignoring_known, now
from minqing.domain import workflow
from minqing.store.cases import _office_midnight
from minqing.store.tables import patrol_tallies, status_history, submissions, tally_events


def add(connection: Connection, increments: list[PatrolIncrement]) -> None:
    """The increments summed by key, one row each in one statement (a recount's many in few), in key order
    so that concurrent workers lock shared rows in one order."""
    sums: dict = {}
    for i in increments:
        key = (i.team, i.community, i.month, i.metric)
        sums[key] = sums.get(key, 0) + i.value
    if sums:
        connection.execute(base.adding_to(connection.dialect.name, patrol_tallies), [
            dict(team=t, community=c, month=m, metric=k, value=v) for (t, c, m, k), v in sorted(sums.items())])


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
    the month of its first finding, a finding's first resolution, and each check once per case and round.

    Only the period's records are read, and the few earlier ones that decide whether a round, a resolution or
    a check of the period came first: a recount month by month reads each record about once."""
    first_month = patrol.month_of(_office_midnight(since)) if since else None
    last_month = patrol.month_of(_office_midnight(until)) if until else None
    clauses = []
    if first_month:
        clauses.append(patrol_tallies.c.month >= first_month)
    if last_month:
        clauses.append(patrol_tallies.c.month <= last_month)
    connection.execute(delete(patrol_tallies).where(*clauses))
    start = _office_midnight(date.fromisoformat(first_month + "-01")) if first_month else None
    end = _office_midnight(_month_after(last_month)) if last_month else None
    increments: list[PatrolIncrement] = []
    _findings(connection, start, end, increments)
    _resolutions(connection, start, end, increments)
    _checks(connection, start, end, increments)
    add(connection, increments)


def _month_after(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year + number // 12, number % 12 + 1, 1)


def during(column, start, end) -> list:
    return [clause for clause in ((column >= start) if start else None, (column < end) if end else None)
            if clause is not None]


def _findings(connection: Connection, start, end, increments: list) -> None:
    """The period's findings, and each round whose first finding is one of them."""
    found = connection.execute(select(submissions.c.payload, submissions.c.submitted_at)
                               .where(submissions.c.kind == "hazard", *during(submissions.c.submitted_at, start, end))
                               .order_by(submissions.c.submitted_at, submissions.c.id),
                               execution_options={"stream_results": True, "yield_per": 2000})
    first: dict = {}
    for row in found:
        if not (row.payload or {}).get("patrol"):
            continue
        increments += patrol.finding_increments(row.payload, row.submitted_at)
        patrol_round = row.payload["patrol"].get("round")
        if patrol_round and patrol_round not in first:
            first[patrol_round] = row
    if start:
        for earlier in rounds_before(connection, list(first), start):
            first.pop(earlier, None)
    for row in first.values():
        increments += patrol.round_increments(row.payload, row.submitted_at)


def patrol_round(dialect: str):
    """A finding's round (text, null for a resident's report), written as its index is (migration 0017)."""
    if dialect == "postgresql":
        return literal_column("(submissions.payload -> 'patrol' ->> 'round')", String)
    return literal_column("json_extract(submissions.payload, '$.patrol.round')", String)


def rounds_before(connection: Connection, rounds: list[str], start: datetime) -> set[str]:
    """Those of `rounds` with a finding filed before `start`: rounds counted before it, not from it."""
    held = patrol_round(connection.dialect.name)
    found = set()
    for part in _parts(rounds, 500):
        found.update(connection.execute(select(held).where(
            held.in_(part), submissions.c.submitted_at < start)).scalars())
    return found


def _resolutions(connection: Connection, start, end, increments: list) -> None:
    """Each patrol finding whose first counted resolution falls in the period."""
    ids = connection.execute(select(status_history.c.submission_id).distinct()
                             .join(submissions, submissions.c.id == status_history.c.submission_id)
                             .where(submissions.c.kind == "hazard", _patrol.isnot(None),
                                    status_history.c.status == "resolved",
                                    *during(status_history.c.at, start, end))).scalars().all()
    for part in _parts(ids):
        payloads = dict(connection.execute(select(submissions.c.id, submissions.c.payload)
                                           .where(submissions.c.id.in_(part))).all())
        seen = set()
        for step in connection.execute(
                select(status_history.c.submission_id, status_history.c.at, status_history.c.action,
                       status_history.c.details)
                .where(status_history.c.status == "resolved", status_history.c.submission_id.in_(part))
                .order_by(status_history.c.at, status_history.c.id)).all():
            payload = payloads[step.submission_id] or {}
            if step.submission_id in seen or step.action in workflow.NOT_COUNTED or not payload.get("patrol"):
                continue
            seen.add(step.submission_id)
            if (start is None or step.at >= start) and (end is None or step.at < end):
                increments += patrol.resolution_increments(payload, "resolved", step.at, step.details or {})


def _checks(connection: Connection, start, end, increments: list) -> None:
    """Each volunteer's check of a case (once per case and round) first made in the period."""
    check = status_history.c.details["check"].as_string()
    ids = connection.execute(select(status_history.c.submission_id).distinct().where(
        check.isnot(None), *during(status_history.c.at, start, end))).scalars().all()
    for part in _parts(ids):
        seen = set()
        for step in connection.execute(
                select(status_history.c.submission_id, status_history.c.at, status_history.c.details,
                       submissions.c.community)
                .join(submissions, submissions.c.id == status_history.c.submission_id)
                .where(check.isnot(None), status_history.c.submission_id.in_(part))
                .order_by(status_history.c.at, status_history.c.id)).all():
            details = step.details or {}
            key = (step.submission_id, details.get("round") or "")
            if not details.get("check") or key in seen:
                continue
            seen.add(key)
            if (start is None or step.at >= start) and (end is None or step.at < end):
                increments += patrol.check_increments(step.community or "", step.at, details)


# A finding's form has a `patrol` part (its JSON text, or null): a filter the database applies before any
# payload is decoded here.
_patrol = submissions.c.payload["patrol"].as_string()


def _parts(ids: list, size: int = 1000):
    return (ids[i:i + size] for i in range(0, len(ids), size))


def patrol_rows(connection: Connection, *, since: str | None = None, until: str | None = None):
    """Rows (team, community, month, metric, value), months from `since` to `until` ("2026-01") included."""
    query = select(patrol_tallies)
    if since:
        query = query.where(patrol_tallies.c.month >= since)
    if until:
        query = query.where(patrol_tallies.c.month <= until)
    return connection.execute(query.order_by(patrol_tallies.c.month)).all()
