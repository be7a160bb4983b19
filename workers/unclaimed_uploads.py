"""Uploads nobody needs: photos never named by a submission, and originals whose copy has been made.

An upload is needed only until the worker's `check_photo` has kept its copy without EXIF (and removed it),
or for as long as a case step names it (staff photos are not checked: the upload is the only copy). What
remains under `uploads/` past the cutoff is an upload abandoned with its form, a form that failed, or an
original a resent form wrote again; the sweep removes it. The cutoff (the upload target's expiry plus a
grace period of a day by default) is far beyond queue latency: a submission still queued, not yet stored,
names its photos nowhere the sweep can see.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from workers.tables import attachments, status_history, submissions

log = logging.getLogger("minqing.sweep")
# Uploads are timed by the store's clock, submissions by the web host's: allow for the two to differ.
CLOCK_SKEW = timedelta(hours=1)
CHUNK = 500  # keys per IN list: old SQLite builds allow 999 parameters


def remove_unclaimed_uploads(engine, store, cutoff: datetime) -> int:
    """Remove each upload written before `cutoff` that no stored submission or case step still needs."""
    candidates = dict(store.uploads_before(cutoff))
    if not candidates:
        return 0
    with engine.connect() as connection:
        needed = still_needed(connection, since=min(candidates.values()) - CLOCK_SKEW)
    removed = 0
    for key in candidates:
        if key not in needed:
            store.delete(key)
            removed += 1
    return removed


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
