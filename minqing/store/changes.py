"""The queries minqing runs: idempotent inserts keyed so that a redelivered message changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.engine import Connection

from minqing.domain import search, workflow
from minqing.domain.tallies import category_of, priority_of
from minqing.domain.workflow import Transition
from minqing.receipts import body_hash
from minqing.store import base, cases, counts, search_index
from minqing.store.base import (
    insert_all_ignoring_known,
    insert_ignoring_known,
    locked_submission,
    now,
)
from minqing.store.tables import assignments, feedback, status_history, submissions

_UNDER_KEY = select(submissions.c.id, submissions.c.receipt, submissions.c.body_hash,
                    submissions.c.idempotency_key).where(
    submissions.c.kind == bindparam("kind"),
    or_(submissions.c.idempotency_key == bindparam("key"), submissions.c.id == bindparam("unscoped_id")))
_ADD_HISTORY = status_history.insert()


def store_submission(connection: Connection, envelope: dict, *,
                     due_at: datetime | None = None) -> SimpleNamespace | None:
    """Store a submission once, with its deadline (`workers.sla.case_due_at`); what was stored (as the row
    reads), or None if it was already known."""
    values = submission_values(envelope, due_at=due_at)
    if not insert_ignoring_known(connection, submissions, values):
        return None
    search_index.index_rows(connection, [(values["id"], values["search_grams"])])
    connection.execute(
        _ADD_HISTORY, dict(submission_id=envelope["id"], status="received", at=values["submitted_at"], actor="system",
             note="")
    )
    return SimpleNamespace(**values)


def submission_values(envelope: dict, *, due_at: datetime | None = None, stored_at: datetime | None = None) -> dict:
    """The submissions row a queued envelope becomes (the bulk seeder writes the same)."""
    kind, data = envelope["kind"], envelope["data"]
    submitted_at = datetime.fromisoformat(envelope["submitted_at"])
    lat, lon = search.location_of(data)
    return dict(
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
        stored_at=stored_at or now(),
        updated_at=submitted_at,
        due_at=due_at,
        search_grams=search.grams_of(data),
        lat=lat,
        lon=lon,
    )


def resolve_if_rectified(connection: Connection, row) -> bool:
    """A patrol's finding fixed on the spot (当场整改) is resolved at once by its volunteer, with what was done
    and the photos after; True if `row` (just stored) was one."""
    data = row.payload
    if not data.get("rectified_on_site"):
        return False
    volunteer = (data.get("patrol") or {}).get("volunteer_id", "")
    transition(connection, row.id, "resolve", actor=f"volunteer:{volunteer}", note=data.get("rectification", ""),
               photos=data.get("after_photos") or (), details={"rectified_on_site": True})
    return True


def stored_under_key(connection: Connection, kind: str, scoped_key: str, unscoped_id: str) -> list:
    """The submissions of `kind` stored under a client's idempotency key (`scope:key`), and the one stored
    before keys were scoped, whose id (`unscoped_id`) was derived from the kind and bare key alone."""
    return connection.execute(_UNDER_KEY, {"kind": kind, "key": scoped_key, "unscoped_id": unscoped_id}).all()


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
    change = workflow.apply(row.status, action)
    details = dict(details or {})
    at = now()
    values = dict(status=change.after, updated_at=at)
    if details.get("duplicate_of"):
        values["duplicate_of"] = details["duplicate_of"]
    if "outcome" in details or "beneficiaries" in details:
        values["outcome"] = {k: details[k] for k in ("outcome", "beneficiaries", "hours") if k in details}
    connection.execute(update(submissions).where(submissions.c.id == submission_id).values(**values))
    step = connection.execute(
        status_history.insert(),
        dict(submission_id=submission_id, status=change.after, at=at, actor=actor, note=note, action=action,
             photos=list(photos) or None, details=details or None),
    )
    counts.count_transition(connection, row, change.after, at, details)
    return replace(change, step=step.inserted_primary_key[0])


def record_assignments(connection: Connection, submission_id: str, staff_ids: tuple[str, ...]) -> None:
    if not staff_ids:
        return
    at = now()
    rows = [dict(submission_id=submission_id, staff_id=staff_id, position=position, assigned_at=at)
            for position, staff_id in enumerate(staff_ids)]
    insert_all_ignoring_known(connection, assignments, rows)




def record_step(connection: Connection, submission_id: str, action: str, *, actor: str, note: str = "",
                photos=(), details: dict | None = None) -> tuple[int, list[str]]:
    """A note or a reassignment: into the history, the status unchanged. Returns the step's id and, for a
    reassignment, the staff it added (also kept in the step's details as `added`), who are to be told."""
    row = base.locked_submission(connection, submission_id)
    at = base.now()
    added: list[str] = []
    if action == "assign":
        before = set(cases.assignees(connection, submission_id))
        added = [staff_id for staff_id in dict.fromkeys(details["assignees"]) if staff_id not in before]
        details = {**details, "added": added}
        connection.execute(delete(assignments).where(assignments.c.submission_id == submission_id))
        record_assignments(connection, submission_id, tuple(details["assignees"]))
    connection.execute(update(submissions).where(submissions.c.id == submission_id).values(updated_at=at))
    step = connection.execute(status_history.insert(), dict(
        submission_id=submission_id, status=row.status, at=at, actor=actor, note=note, action=action,
        photos=list(photos) or None, details=details or None))
    return step.inserted_primary_key[0], added


def assigned_event(step_id: int) -> str:
    """The notification event of a reassignment: one per step, so a redelivered message repeats nothing
    and a later reassignment is told again."""
    return f"assigned-{step_id}"


def newly_assigned(connection: Connection, submission_id: str, event: str) -> tuple[str, list[str]]:
    """Who did the reassignment behind `event`, and whom it added that still answer for the case.

    LookupError while the step is not visible (the staff action's transaction has not committed yet).
    """
    step_id = int(event.rsplit("-", 1)[1])
    step = connection.execute(select(status_history).where(
        status_history.c.id == step_id, status_history.c.submission_id == submission_id,
        status_history.c.action == "assign")).one_or_none()
    if step is None:
        raise LookupError(f"no reassignment {step_id} of case {submission_id}")
    current = set(cases.assignees(connection, submission_id))
    return step.actor, [staff_id for staff_id in (step.details or {}).get("added", []) if staff_id in current]


def record_feedback(connection: Connection, receipt: str, *, rating: int, fixed: bool, comment: str) -> str:
    """Take a resident's feedback once; "fixed" closes the case, "not fixed" reopens it.

    Returns "recorded", "unknown" (not stored yet), "not-resolved" or "already-given".
    """
    found = cases.case_by_receipt(connection, receipt)
    if found is None:
        return "unknown"
    case = base.locked_submission(connection, found.id)
    if cases.feedback_of(connection, case.id) is not None:
        return "already-given"
    if case.status != "resolved":
        return "not-resolved"
    at = base.now()
    base.insert_ignoring_known(connection, feedback, dict(
        submission_id=case.id, rating=rating, fixed=int(fixed), comment=comment, at=at))
    counts.count_feedback(connection, case, at, rating, fixed)
    # The resident's word settles the case: confirmed, it closes; not fixed, it goes back to work.
    transition(connection, case.id, "close" if fixed else "reopen", actor="resident", note=comment,
                       details={"feedback": "fixed" if fixed else "not_fixed"})
    return "recorded"


def record_nudge(connection: Connection, submission_id: str, *, at: datetime | None = None) -> int | None:
    """A resident's 催办 of an overdue case: once per case and office day. The step's id, or None when the
    case was nudged today already or is not overdue (nothing is recorded then)."""
    row = base.locked_submission(connection, submission_id)
    at = at or base.now()
    if not workflow.may_nudge(row.status, row.due_at, at):
        return None
    if not counts.count_nudge(connection, row, at):
        return None
    step = connection.execute(status_history.insert(), dict(
        submission_id=submission_id, status=row.status, at=at, actor="resident", note="", action=workflow.NUDGE,
        photos=None, details=None))
    return step.inserted_primary_key[0]


def record_resident_update(connection: Connection, submission_id: str, *, text: str, actor: str,
                           photos=(), details: dict | None = None) -> int:
    """An update a resident sent from another site (Open311): a note in the history, nothing moved."""
    row = base.locked_submission(connection, submission_id)
    at = base.now()
    connection.execute(update(submissions).where(submissions.c.id == submission_id).values(updated_at=at))
    step = connection.execute(status_history.insert(), dict(
        submission_id=submission_id, status=row.status, at=at, actor=actor[:40], note=text,
        action=workflow.RESIDENT_UPDATE, photos=list(photos) or None, details=details or None))
    return step.inserted_primary_key[0]
