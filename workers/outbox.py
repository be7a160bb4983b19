"""Queries of notifications beyond sending one: fallbacks, final failures, digests and used one-tap links."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from workers.cases import OPEN_STATUSES
from workers.queries import insert_ignoring_known, now
from workers.tables import assignments, digests, outbox, submissions, used_links


def entry(connection: Connection, outbox_id: int):
    return connection.execute(select(outbox).where(outbox.c.id == outbox_id)).one_or_none()


def has_event(connection: Connection, submission_id: str, event: str) -> bool:
    query = select(outbox.c.id).where(outbox.c.submission_id == submission_id, outbox.c.event == event).limit(1)
    return connection.execute(query).first() is not None


def add_one(connection: Connection, row: dict) -> tuple[int, str]:
    """Queue one notification once; its id and status (an earlier identical row's, if there was one)."""
    insert_ignoring_known(connection, outbox, dict(row, status="pending", attempts=0, created_at=now()))
    found = connection.execute(
        select(outbox.c.id, outbox.c.status).where(
            outbox.c.submission_id == row["submission_id"], outbox.c.event == row["event"],
            outbox.c.recipient == row["recipient"], outbox.c.channel == row["channel"])
    ).one()
    return found.id, found.status


def supersede(connection: Connection, outbox_id: int, successor_id: int) -> None:
    connection.execute(update(outbox).where(outbox.c.id == outbox_id).values(superseded_by=successor_id))


def release(connection: Connection, outbox_id: int) -> None:
    """Give up a claim without counting an attempt (the provider's rate limit said: not yet)."""
    connection.execute(update(outbox).where(outbox.c.id == outbox_id, outbox.c.status == "pending")
                       .values(claimed_until=None))


def _final_failures():
    return outbox.c.status == "failed", outbox.c.superseded_by.is_(None)


def failed(connection: Connection, limit: int = 100):
    """Notifications that failed on every channel and fallback, newest first, with the case's receipt."""
    query = (
        select(outbox, submissions.c.receipt)
        .join(submissions, submissions.c.id == outbox.c.submission_id)
        .where(*_final_failures())
        .order_by(outbox.c.id.desc())
        .limit(limit)
    )
    return connection.execute(query).all()


def count_failed(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(outbox).where(*_final_failures())).scalar_one()


def recent(connection: Connection, limit: int = 50):
    query = (select(outbox, submissions.c.receipt).join(submissions, submissions.c.id == outbox.c.submission_id)
             .order_by(outbox.c.id.desc()).limit(limit))
    return connection.execute(query).all()


def staff_with_open_cases(connection: Connection) -> list[str]:
    query = (
        select(assignments.c.staff_id).distinct()
        .join(submissions, submissions.c.id == assignments.c.submission_id)
        .where(submissions.c.status.in_(OPEN_STATUSES))
        .order_by(assignments.c.staff_id)
    )
    return list(connection.execute(query).scalars())


def open_cases(connection: Connection, staff_id: str):
    query = (
        select(submissions.c.id, submissions.c.receipt, submissions.c.kind, submissions.c.category,
               submissions.c.priority, submissions.c.status, submissions.c.submitted_at,
               submissions.c.due_at)
        .join(assignments, assignments.c.submission_id == submissions.c.id)
        .where(assignments.c.staff_id == staff_id, submissions.c.status.in_(OPEN_STATUSES))
        .order_by(submissions.c.submitted_at)
    )
    return connection.execute(query).all()


def digest_claim(connection: Connection, staff_id: str, day: date) -> tuple[bool, int | None]:
    """(True, None) if this call is the first for (staff, day); else (False, the digest's outbox id)."""
    if insert_ignoring_known(connection, digests, dict(staff_id=staff_id, day=day, created_at=now())):
        return True, None
    found = connection.execute(
        select(digests.c.outbox_id).where(digests.c.staff_id == staff_id, digests.c.day == day)).scalar_one()
    return False, found


def record_digest(connection: Connection, staff_id: str, day: date, outbox_id: int) -> None:
    connection.execute(update(digests).where(digests.c.staff_id == staff_id, digests.c.day == day)
                       .values(outbox_id=outbox_id))


def use_link(connection: Connection, grant) -> bool:
    """Mark a one-tap link used; False if it already was."""
    return insert_ignoring_known(connection, used_links, dict(
        digest=grant.digest, submission_id=grant.submission_id, staff_id=grant.staff_id, action=grant.action,
        used_at=now()))
