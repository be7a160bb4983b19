"""Patrol counts in `patrol_tallies` (平安合伙人, team × community × month), written in the caller's transaction.

Each is made once per (case, event): the finding, round and resolution piggyback on the tallies' own
`tally_events` key (the caller counts them only when that key was new); a check has its key here.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from minqing.domain import patrol
from minqing.domain.patrol import PatrolIncrement
from minqing.store.base import insert_ignoring_known, now
from minqing.store.tables import patrol_tallies, tally_events


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


def patrol_rows(connection: Connection, *, since: str | None = None, until: str | None = None):
    """Rows (team, community, month, metric, value), months from `since` to `until` ("2026-01") included."""
    query = select(patrol_tallies)
    if since:
        query = query.where(patrol_tallies.c.month >= since)
    if until:
        query = query.where(patrol_tallies.c.month <= until)
    return connection.execute(query.order_by(patrol_tallies.c.month)).all()
