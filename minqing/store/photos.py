"""What the photo check recorded about each attachment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from minqing.store.base import insert_ignoring_known, now
from minqing.store.tables import attachments, status_history, submissions


def photo_checked(connection: Connection, key: str) -> bool:
    return connection.execute(select(attachments.c.key).where(attachments.c.key == key)).first() is not None


def record_photo(connection: Connection, values: dict) -> bool:
    """Record a photo's check once; True if this call recorded it."""
    return insert_ignoring_known(connection, attachments, dict(values, checked_at=now()))


def photos_of(connection: Connection, submission_id: str):
    return connection.execute(
        select(attachments).where(attachments.c.submission_id == submission_id).order_by(attachments.c.key)
    ).all()


CHUNK = 500  # keys per IN list: old SQLite builds allow 999 parameters


def still_needed(connection, since: datetime) -> set[str]:
    """Keys named, since `since`, by a case step, or by a submission whose photo check is not recorded."""
    # A key is always named after it was uploaded, so only what was named since the oldest candidate counts.
    named = set()
    for (payload,) in connection.execute(select(submissions.c.payload).where(submissions.c.submitted_at >= since)):
        named.update(key for key in (payload or {}).get("photos") or () if isinstance(key, str))
    checked, listed = set(), sorted(named)
    for start in range(0, len(listed), CHUNK):
        chunk = listed[start:start + CHUNK]
        checked.update(connection.execute(select(attachments.c.key).where(attachments.c.key.in_(chunk))).scalars())
    steps = connection.execute(select(status_history.c.photos).where(
        status_history.c.at >= since, status_history.c.photos.is_not(None)))
    return (named - checked) | {key for (photos,) in steps for key in photos or () if isinstance(key, str)}
