"""Queries of notifications beyond sending one: fallbacks, final failures, digests and used one-tap links."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Connection

from minqing.domain.workflow import OPEN_STATUSES
from minqing.store.base import _all_ignoring_known, insert_ignoring_known, now
from minqing.store.tables import assignments, digests, outbox, submissions, used_links


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


_PENDING = select(outbox.c.id, outbox.c.event, outbox.c.recipient, outbox.c.channel).where(
    outbox.c.submission_id == bindparam("id"), outbox.c.status == "pending"
)


_PENDING_OF_EVENT = _PENDING.where(outbox.c.event == bindparam("event")).order_by(outbox.c.id)


def _claiming(which):
    """Claim the pending notifications `which` selects that nobody holds (no claim, or one run out)."""
    return (
        update(outbox)
        .where(which, outbox.c.status == "pending",
               or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < bindparam("at")))
        .values(claimed_until=bindparam("until"))
        .returning(*outbox.c)
    )


_CLAIM = _claiming(outbox.c.id == bindparam("outbox_id"))


_CLAIM_ALL = _claiming(outbox.c.id.in_(bindparam("ids", expanding=True)))


_CLAIM_STATE = select(outbox.c.status, outbox.c.claimed_until).where(outbox.c.id == bindparam("outbox_id"))


_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("outbox_id"), outbox.c.status != "sent")
    .values(status="sent", sent_at=bindparam("at"), provider_message_id=bindparam("provider_id"),
            attempts=outbox.c.attempts + 1)
)


@functools.cache
def _adding_notifications(dialect: str):
    # Many rows, one statement (SQLAlchemy's "insertmanyvalues"), each added row returned whole.
    return _all_ignoring_known(dialect, outbox).returning(*outbox.c)


def add_to_outbox(connection: Connection, rows: list[dict]) -> tuple[list, list]:
    """Queue notifications once each, in one statement: (the rows added now, whole; those of `rows` that
    were known from before and are still to send). A row may come claimed (`claimed_until`)."""
    if not rows:
        return [], []
    created = now()
    added = connection.execute(
        _adding_notifications(connection.dialect.name),
        [dict(row, status="pending", attempts=0, created_at=created, claimed_until=row.get("claimed_until"))
         for row in rows],
    ).all()
    if len(added) == len(rows):
        return added, []
    keys = {(r["event"], r["recipient"], r["channel"]) for r in rows}
    fresh = {r.id for r in added}
    found = connection.execute(_PENDING, {"id": rows[0]["submission_id"]}).all()
    return added, [r for r in found if (r.event, r.recipient, r.channel) in keys and r.id not in fresh]


def pending_notifications(connection: Connection, submission_id: str, event: str) -> list:
    """A case's notifications of `event` not yet sent (id, event, recipient, channel)."""
    return connection.execute(_PENDING_OF_EVENT, {"id": submission_id, "event": event}).all()


def claim_delivery(connection: Connection, outbox_id: int, lease_seconds: float):
    """Take the right to send one notification for `lease_seconds`.

    Returns ("claimed", row), ("sent", None) when there is nothing left to do, ("failed", None) when it
    failed for good (its fallback is what remains to do), or ("busy", seconds until the other claim runs out).
    """
    at = now()
    claimed = connection.execute(
        _CLAIM, {"outbox_id": outbox_id, "at": at, "until": at + timedelta(seconds=lease_seconds)}
    ).first()
    if claimed is not None:
        return "claimed", claimed
    row = connection.execute(_CLAIM_STATE, {"outbox_id": outbox_id}).first()
    if row is None or row.status == "sent":
        return "sent", None
    if row.status == "failed":
        return "failed", None
    return "busy", max(0.0, (row.claimed_until - at).total_seconds())


def mark_sent(connection: Connection, outbox_id: int, provider_message_id: str) -> bool:
    result = connection.execute(_MARK_SENT, {"outbox_id": outbox_id, "at": now(), "provider_id": provider_message_id})
    return result.rowcount == 1


def claim_deliveries(connection: Connection, outbox_ids: list[int], lease_seconds: float) -> list:
    """Take the right to send those of the notifications that nobody holds, in one statement; their rows."""
    if not outbox_ids:
        return []
    at = now()
    return connection.execute(
        _CLAIM_ALL, {"ids": outbox_ids, "at": at, "until": at + timedelta(seconds=lease_seconds)}
    ).all()


def mark_all_sent(connection: Connection, sent: list[tuple[int, str]]) -> None:
    """Record notifications sent, as (outbox id, provider's message id), in one round trip."""
    at = now()
    connection.execute(_MARK_SENT, [{"outbox_id": i, "at": at, "provider_id": p} for i, p in sent])


def mark_attempt_failed(connection: Connection, outbox_id: int, error: str, *, final: bool = False) -> None:
    connection.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id, outbox.c.status != "sent")
        .values(status="failed" if final else "pending", last_error=error[:2000], attempts=outbox.c.attempts + 1,
                claimed_until=None)
    )
