"""The queries minqing runs: idempotent inserts keyed so that a redelivered message changes nothing."""

from __future__ import annotations

import functools
from types import SimpleNamespace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from minqing.receipts import body_hash
from workers.tables import (
    assignments,
    attachments,
    dead_letters,
    outbox,
    status_history,
    submissions,
    tallies,
    tally_events,
)
from workers import case_counts, case_queries, cases
from workers.cases import Transition
from workers.tallies import Increment, category_of, increments_for, priority_of

PUBLIC_COLUMNS = (
    submissions.c.receipt,
    submissions.c.kind,
    submissions.c.community,
    submissions.c.category,
    submissions.c.status,
    submissions.c.submitted_at,
    submissions.c.updated_at,
)


# The statements every submission runs, built once: constructing them per call costs more than running them.
_BODY_HASH = select(submissions.c.body_hash).where(submissions.c.id == bindparam("id"))
_UNDER_KEY = select(submissions.c.id, submissions.c.receipt, submissions.c.body_hash,
                    submissions.c.idempotency_key).where(
    submissions.c.kind == bindparam("kind"),
    or_(submissions.c.idempotency_key == bindparam("key"), submissions.c.id == bindparam("unscoped_id")))
_SUBMISSION = select(submissions).where(submissions.c.id == bindparam("id"))
_ASSIGNEES = (
    select(assignments.c.staff_id).where(assignments.c.submission_id == bindparam("id")).order_by(assignments.c.position)
)
_PENDING = select(outbox.c.id, outbox.c.event, outbox.c.recipient, outbox.c.channel).where(
    outbox.c.submission_id == bindparam("id"), outbox.c.status == "pending"
)
_PENDING_OF_EVENT = _PENDING.where(outbox.c.event == bindparam("event")).order_by(outbox.c.id)
_ADD_HISTORY = status_history.insert()


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


def now() -> datetime:
    return datetime.now(timezone.utc)


@functools.cache
def _all_ignoring_known(dialect: str, table):
    # Built once per dialect and table, with values passed at execution: building `.values(**row)` for
    # every call costs more CPU than the round trip.
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    return insert(table).on_conflict_do_nothing()


@functools.cache
def _ignoring_known(dialect: str, table):
    # RETURNING, not rowcount: drivers differ in what rowcount says for INSERT … ON CONFLICT.
    return _all_ignoring_known(dialect, table).returning(list(table.primary_key.columns)[0])


@functools.cache
def _adding_notifications(dialect: str):
    # Many rows, one statement (SQLAlchemy's "insertmanyvalues"), each added row returned whole.
    return _all_ignoring_known(dialect, outbox).returning(*outbox.c)


@functools.cache
def _adding_to_tallies(dialect: str):
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(tallies)
    return statement.on_conflict_do_update(
        index_elements=["metric", "kind", "community", "category", "day"],
        set_={"value": tallies.c.value + statement.excluded.value},
    )


def insert_ignoring_known(connection: Connection, table, values: dict) -> bool:
    """Insert unless the primary or unique key is known; True when a row was added."""
    return connection.execute(_ignoring_known(connection.dialect.name, table), values).first() is not None


def insert_all_ignoring_known(connection: Connection, table, rows: list[dict]) -> None:
    """Insert the rows whose key is not known yet, in one statement."""
    if rows:
        connection.execute(_all_ignoring_known(connection.dialect.name, table), rows)


def store_submission(connection: Connection, envelope: dict, *,
                     due_at: datetime | None = None) -> SimpleNamespace | None:
    """Store a submission once, with its deadline (`workers.sla.case_due_at`); what was stored (as the row
    reads), or None if it was already known."""
    kind, data = envelope["kind"], envelope["data"]
    submitted_at = datetime.fromisoformat(envelope["submitted_at"])
    values = dict(
        id=envelope["id"],
        receipt=envelope["receipt"],
        kind=kind,
        community=data.get("community") or "",
        category=category_of(kind, data),
        priority=priority_of(data),
        status="received",
        payload=data,
        body_hash=body_hash(data),
        idempotency_key=envelope.get("idempotency_key"),
        lang=envelope.get("lang") or "zh-CN",
        submitted_at=submitted_at,
        stored_at=now(),
        updated_at=submitted_at,
        due_at=due_at,
    )
    if not insert_ignoring_known(connection, submissions, values):
        return None
    connection.execute(
        _ADD_HISTORY, dict(submission_id=envelope["id"], status="received", at=submitted_at, actor="system", note="")
    )
    return SimpleNamespace(**values)


def body_hash_of(connection: Connection, submission_id: str) -> str | None:
    return connection.execute(_BODY_HASH, {"id": submission_id}).scalar_one_or_none()


def stored_under_key(connection: Connection, kind: str, scoped_key: str, unscoped_id: str) -> list:
    """The submissions of `kind` stored under a client's idempotency key (`scope:key`), and the one stored
    before keys were scoped, whose id (`unscoped_id`) was derived from the kind and bare key alone."""
    return connection.execute(_UNDER_KEY, {"kind": kind, "key": scoped_key, "unscoped_id": unscoped_id}).all()


def submission(connection: Connection, submission_id: str):
    return connection.execute(_SUBMISSION, {"id": submission_id}).one_or_none()


def public_status(connection: Connection, receipt: str) -> dict | None:
    """What anyone holding the receipt may see: no names, phones or free text."""
    row = connection.execute(
        select(submissions.c.id, submissions.c.duplicate_of, *PUBLIC_COLUMNS).where(submissions.c.receipt == receipt)
    ).one_or_none()
    if row is None:
        return None
    history = connection.execute(
        select(status_history.c.status, status_history.c.at)
        .where(status_history.c.submission_id == row.id)
        .order_by(status_history.c.at, status_history.c.id)
    ).all()
    return {
        "receipt": row.receipt,
        "kind": row.kind,
        "community": row.community or None,
        "category": row.category,
        "status": row.status,
        "submitted_at": row.submitted_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "history": [{"status": h.status, "at": h.at.isoformat()} for h in history],
        **case_queries.public_links(connection, row),
    }


def locked_submission(connection: Connection, submission_id: str):
    """The case, locked for this transaction on PostgreSQL so concurrent staff actions queue; LookupError if unknown."""
    query = select(submissions).where(submissions.c.id == submission_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).one_or_none()
    if row is None:
        raise LookupError(submission_id)
    return row


def transition(connection: Connection, submission_id: str, action: str, *, actor: str, note: str = "",
               photos: tuple[str, ...] | list[str] = (), details: dict | None = None) -> Transition:
    """Move a case through the workflow, recording who did what; raises IllegalTransition or LookupError.

    The row is locked (PostgreSQL) so two staff acting at once cannot both move it from the same state.
    The event is counted in the tallies here, in the same transaction, once per (case, event), whoever
    calls: staff, a one-tap link, a resident's feedback or the auto-close sweep.
    `details` are kept in the history (a reason, an outcome, beneficiaries and hours); `duplicate_of` and
    `outcome` in them are also set on the case.
    """
    row = locked_submission(connection, submission_id)
    change = cases.apply(row.status, action)
    details = dict(details or {})
    at = now()
    values = dict(status=change.after, updated_at=at)
    if details.get("duplicate_of"):
        values["duplicate_of"] = details["duplicate_of"]
    if "outcome" in details or "beneficiaries" in details:
        values["outcome"] = {k: details[k] for k in ("outcome", "beneficiaries", "hours") if k in details}
    connection.execute(update(submissions).where(submissions.c.id == submission_id).values(**values))
    connection.execute(
        status_history.insert(),
        dict(submission_id=submission_id, status=change.after, at=at, actor=actor, note=note, action=action,
             photos=list(photos) or None, details=details or None),
    )
    case_counts.count_transition(connection, row, change.after, at, details)
    return change


def record_assignments(connection: Connection, submission_id: str, staff_ids: tuple[str, ...]) -> None:
    if not staff_ids:
        return
    at = now()
    rows = [dict(submission_id=submission_id, staff_id=staff_id, position=position, assigned_at=at)
            for position, staff_id in enumerate(staff_ids)]
    insert_all_ignoring_known(connection, assignments, rows)


def assignees(connection: Connection, submission_id: str) -> list[str]:
    return list(connection.execute(_ASSIGNEES, {"id": submission_id}).scalars())


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
    count = 0
    for row in connection.execute(
        select(submissions.c.id, submissions.c.kind, submissions.c.payload, submissions.c.submitted_at)
    ):
        apply_increments(connection, row.id, "received", increments_for(row.kind, row.payload, row.submitted_at))
        count += 1
    case_counts.recount_workflow(connection)
    return count


def count_submissions(connection: Connection) -> int:
    return connection.execute(select(func.count()).select_from(submissions)).scalar_one()


def add_dead_letter(connection: Connection, *, message_id, queue, actor, message, error) -> None:
    connection.execute(
        dead_letters.insert().values(
            message_id=message_id, queue=queue, actor=actor, message=message, error=error, failed_at=now()
        )
    )


def list_dead_letters(connection: Connection, limit: int = 100, *, include_retried: bool = False):
    query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
    if not include_retried:
        query = query.where(dead_letters.c.retried_at.is_(None))
    return connection.execute(query).all()


def mark_dead_letter_retried(connection: Connection, dead_letter_id: int) -> None:
    connection.execute(update(dead_letters).where(dead_letters.c.id == dead_letter_id).values(retried_at=now()))


def photo_checked(connection: Connection, key: str) -> bool:
    return connection.execute(select(attachments.c.key).where(attachments.c.key == key)).first() is not None


def record_photo(connection: Connection, values: dict) -> bool:
    """Record a photo's check once; True if this call recorded it."""
    return insert_ignoring_known(connection, attachments, dict(values, checked_at=now()))


def photos_of(connection: Connection, submission_id: str):
    return connection.execute(
        select(attachments).where(attachments.c.submission_id == submission_id).order_by(attachments.c.key)
    ).all()
