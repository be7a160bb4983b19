"""What anyone may see of a case (公开): its public history with the office's replies and after-photos, the
public problem list, and which photos may be shown. Never a name, a phone or the resident's own words until
staff publish them (a `publish` step)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, literal_column, select
from sqlalchemy.engine import Connection

from minqing.domain import workflow
from minqing.store.tables import attachments, status_history, submissions

# Steps of the history a resident sees; notes, reassignments and moderation stay with staff.
SHOWN_ACTIONS = (None, *workflow.ACTIONS, workflow.NUDGE)


def _public_kind(dialect: str):
    # Hazards, and sessions teams held (a consultation "report"); a consultation request never is public,
    # nor is an enterprise request.
    kind = submissions.c.kind
    if dialect == "sqlite":
        # A unary + keeps SQLite's planner (which has no statistics) from answering this OR by the kind's
        # index, that is every hazard read and then sorted (280 ms for the first page at 100,000 cases):
        # the list's own index is read newest first and stops when the page is full.
        kind = literal_column("+submissions.kind", String)
    return (kind == "hazard") | ((kind == "consultation") & (submissions.c.payload["mode"].as_string() == "report"))


def history(connection: Connection, submission_id: str) -> list[dict]:
    """The steps a resident sees: status, time, the public reply, and after-photos (a resolve step's)."""
    rows = connection.execute(
        select(status_history).where(status_history.c.submission_id == submission_id)
        .order_by(status_history.c.at, status_history.c.id)).all()
    shown = []
    for row in rows:
        if row.action not in SHOWN_ACTIONS:
            continue
        photos = list(row.photos or []) if row.action == "resolve" else []
        shown.append({"id": row.id, "status": row.status, "action": row.action, "at": row.at,
                      "reply": (row.details or {}).get("reply") or "", "photos": photos})
    return shown


def publication(connection: Connection, submission_id: str) -> dict | None:
    """The latest publish step's choice: {"text": …, "photos": […]}, or None when not (or no longer) public."""
    row = connection.execute(
        select(status_history.c.details).where(status_history.c.submission_id == submission_id,
                                               status_history.c.action == "publish")
        .order_by(status_history.c.at.desc(), status_history.c.id.desc()).limit(1)).first()
    details = (row.details if row else None) or {}
    if not details.get("public"):
        return None
    return {"text": details.get("public_text"), "photos": list(details.get("public_photos") or [])}


def public_photo_keys(connection: Connection, case) -> list[str]:
    """Every photo of the case that may be shown to anyone: after-photos, and the published ones."""
    keys = [key for step in history(connection, case.id) for key in step["photos"]]
    published = publication(connection, case.id)
    return keys + (published["photos"] if published else [])


def clean_copy(connection: Connection, key: str) -> str | None:
    """The EXIF-free copy of a checked photo, if the check passed."""
    row = connection.execute(select(attachments.c.staff_key, attachments.c.status)
                             .where(attachments.c.key == key)).first()
    return row.staff_key if row is not None and row.status == "ok" and row.staff_key else None


def problem_list(connection: Connection, *, community: str | None = None, category: str | None = None,
                 status: str | None = None, since: datetime | None = None, limit: int = 50, offset: int = 0):
    """Public problem list (公开问题清单): hazards, and sessions teams held; newest first. The rows carry
    no payload: what is shown of a resident's words comes from `publication`."""
    return connection.execute(problem_query(connection.dialect.name, community=community, category=category,
                                            status=status, since=since).limit(limit).offset(offset)).all()


def problem_query(dialect: str, *, community: str | None = None, category: str | None = None,
                  status: str | None = None, since: datetime | None = None):
    """The public problem list's query, newest first, without its page (limit and offset)."""
    query = select(submissions.c.id, submissions.c.receipt, submissions.c.kind, submissions.c.community,
                   submissions.c.category, submissions.c.status, submissions.c.submitted_at,
                   submissions.c.updated_at, submissions.c.payload).where(_public_kind(dialect))
    if community:
        query = query.where(submissions.c.community == community)
    if category:
        query = query.where(submissions.c.category == category)
    if status:
        query = query.where(submissions.c.status == status)
    if since:
        query = query.where(submissions.c.submitted_at >= since)
    # Ties in the order of the index (submitted_at, id), read backwards.
    return query.order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())


def last_reply(connection: Connection, submission_id: str) -> tuple[str, list[str]]:
    """The latest public reply, and the after-photos of the latest resolve step."""
    reply, photos = "", []
    for step in history(connection, submission_id):
        reply = step["reply"] or reply
        if step["action"] == "resolve":
            photos = step["photos"]
    return reply, photos


def hazard_updates(connection: Connection, *, start: datetime | None, end: datetime | None, limit: int = 1000):
    """The office's steps on hazards (status moves, with their public replies), oldest first, for Open311's
    servicerequestupdates; a resident's own updates and nudges are not among them."""
    query = (select(status_history.c.id, status_history.c.status, status_history.c.action, status_history.c.at,
                    status_history.c.details, status_history.c.photos, submissions.c.receipt)
             .join(submissions, submissions.c.id == status_history.c.submission_id)
             .where(submissions.c.kind == "hazard", status_history.c.action.in_(tuple(workflow.ACTIONS))))
    if start:
        query = query.where(status_history.c.at >= start)
    if end:
        query = query.where(status_history.c.at <= end)
    return connection.execute(query.order_by(status_history.c.at, status_history.c.id).limit(limit)).all()


CHUNK = 500  # ids per IN list: old SQLite builds allow 999 parameters


def _steps_of(connection: Connection, ids: list[str], actions: tuple):
    for start in range(0, len(ids), CHUNK):
        yield from connection.execute(
            select(status_history.c.id, status_history.c.submission_id, status_history.c.action,
                   status_history.c.details, status_history.c.photos)
            .where(status_history.c.submission_id.in_(ids[start:start + CHUNK]),
                   status_history.c.action.in_(actions))
            .order_by(status_history.c.at, status_history.c.id))


def summaries(connection: Connection, ids: list[str]) -> dict[str, dict]:
    """For many cases in two queries: each one's publication (as `publication`), latest public reply, and
    latest resolve step (its id and after-photos)."""
    found = {sid: {"published": None, "reply": "", "resolve": None} for sid in ids}
    for step in _steps_of(connection, ids, ("publish", *workflow.ACTIONS)):
        entry, details = found[step.submission_id], step.details or {}
        if step.action == "publish":
            entry["published"] = ({"text": details.get("public_text"),
                                   "photos": list(details.get("public_photos") or [])}
                                  if details.get("public") else None)
            continue
        entry["reply"] = details.get("reply") or entry["reply"]
        if step.action == "resolve":
            entry["resolve"] = (step.id, list(step.photos or []))
    return found
