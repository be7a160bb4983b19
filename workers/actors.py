"""The pipeline's actors: store a submission, notify its assignees, check its photos. Each is idempotent:
Dramatiq delivers at least once. Declared here, bound to the worker's broker by `workers.main.build`."""

from __future__ import annotations

import logging
from datetime import datetime

from minqing.domain.deadlines import case_due_at
from minqing.domain.routing import route
from minqing.receipts import body_hash
from minqing.store import cases, changes, checks, counts, photos
from workers import notifications
from workers.compose import outbox_rows
from workers.registry import actor, runtime
from workers.templates import note

log = logging.getLogger("minqing.workers")


@actor
def store_submission(envelope: dict) -> None:
    """Store a submission with its assignees, its outbox rows and its counts, in one transaction.

    One transaction, as the case workflow counts its transitions: a stored submission is always routed
    and counted, and the office's numbers never disagree with its records, even for a moment.
    """
    rt = runtime()
    submitted_at = datetime.fromisoformat(envelope["submitted_at"])
    due = case_due_at(rt.directory, envelope["kind"], envelope["data"], submitted_at,
                      override_seconds=rt.settings.sla_seconds)
    with rt.engine.begin() as connection:
        row = changes.store_submission(connection, envelope, due_at=due)
        if row is not None:
            staff_ids = route(rt.directory, kind=row.kind, community=row.community or None,
                              category=row.category, uscc=(row.payload.get("enterprise") or {}).get("uscc"))
            changes.record_assignments(connection, row.id, staff_ids)
            counts.count_submission(connection, row)
            event = "rectified" if changes.resolve_if_rectified(connection, row) else "received"
            outgoing = notifications.add(connection, outbox_rows(
                rt.directory, row, event, staff_ids, set(rt.channels), lang=rt.lang))
        elif cases.body_hash_of(connection, envelope["id"]) != body_hash(envelope["data"]):
            # An id is derived from a key and the content together (intake.keyed), so only a message
            # from before that, or not from us, gets here: keep what is stored.
            log.warning("submission %s: idempotency key reused with another body; dropped", envelope["id"])
            return
        else:
            # Redelivered: what the first delivery committed stands; only the sends after it may be lost.
            row = cases.submission(connection, envelope["id"])
            staff_ids = cases.assignees(connection, row.id)
            event = "rectified" if row.payload.get("rectified_on_site") else "received"
            outgoing = notifications.pending(connection, row.id, event)
    # A finding fixed on the spot is a notice, not a task: no deadline timer for it.
    _after_storing(row, staff_ids, outgoing, event)
    for key in [*(envelope["data"].get("photos") or ()), *(envelope["data"].get("after_photos") or ())]:
        check_photo.send(envelope["id"], key)


@actor
def notify_assignees(submission_id: str, event: str = "received") -> None:
    """Notify a case's assignees of `event` once each; for a reassignment ("assigned-<step>"), only the
    staff it added. The pipeline's own notices are made when storing."""
    rt = runtime()
    why = ""
    with rt.engine.begin() as connection:
        row = cases.submission(connection, submission_id)
        if row is None:
            raise LookupError(f"no submission {submission_id}")
        if event.startswith("assigned-"):
            by, added = changes.newly_assigned(connection, submission_id, event)
            staff_ids = [staff_id for staff_id in added if staff_id in rt.directory.staff]
            by_name = rt.directory.staff[by].name if by in rt.directory.staff else by
            why = note("assigned", names=[by_name], lang=rt.lang)
        elif event.startswith("rechecked-"):
            staff_ids = cases.assignees(connection, submission_id)
            why = note("rechecked", names=[checks.checked_by(connection, submission_id) or "—"], lang=rt.lang)
        else:
            staff_ids = cases.assignees(connection, submission_id)
        outgoing = notifications.add(connection, outbox_rows(
            rt.directory, row, event, staff_ids, set(rt.channels), lang=rt.lang, note=why))
    _after_storing(row, staff_ids, outgoing, event)


def _after_storing(row, staff_ids, outgoing, event: str) -> None:
    # Sent again on redelivery as well, so a crash between the commit and the sends loses nothing.
    notifications.send(outgoing)
    if event == "received" and staff_ids and row.due_at is not None:
        # The SLA timer is a delayed message for the case's deadline; it does nothing if the case has
        # moved on by then.
        notifications.check_sla.send_with_options(args=(row.id, 1), delay=notifications.sla_delay_ms(row))


@actor
def check_photo(submission_id: str, key: str) -> None:
    """Record what a photo really is, keep a copy without EXIF, and remove the upload itself.

    The original goes whatever the check found: it may carry a GPS position, and nothing shows it (an
    accepted photo is shown by its copy, a rejected one not at all).
    """
    from minqing.attachments.base import staff_copy_key
    from minqing.attachments.images import check_photo as inspect

    rt = runtime()
    settings = rt.settings
    with rt.engine.connect() as connection:
        checked = photos.photo_checked(connection, key)
    if not checked:
        data = rt.attachments.get(key)
        # The phone uploads before it submits, so a photo not there now never will be.
        found = inspect(data, settings.attachments_max_bytes, settings.attachments_max_pixels) \
            if data is not None else None
        staff_key = staff_copy_key(key) if found and found.clean_copy else ""
        if staff_key:
            # Written before the row: a crash in between redoes the same write, never records a missing copy.
            rt.attachments.put(staff_key, found.clean_copy, "image/jpeg")
        with rt.engine.begin() as connection:
            photos.record_photo(connection, dict(
                key=key, submission_id=submission_id, status=found.status if found else "missing",
                reason=found.reason if found else "", content_type=found.content_type if found else "",
                bytes=len(data or b""), width=found.width if found else 0, height=found.height if found else 0,
                staff_key=staff_key))
    # After the row, and again on every redelivery: a crash before this line leaves the row (so the check
    # is not redone on a missing file) and the next delivery removes the original.
    rt.attachments.delete(key)
