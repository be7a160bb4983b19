"""The periodic sweep: close resolved cases nobody rated, count cases that went overdue, and remove uploads
nobody needs (unclaimed_uploads.py).

Run by `minqing cases sweep` (from cron or a systemd timer, e.g. hourly) and, on the embedded default,
by `minqing serve` every hour. Safe to run anywhere and as often as wanted: every step is a locked
transition or a keyed tally increment, so two sweeps at once change nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from minqing.store import base, cases, changes, counts
from minqing.domain.workflow import IllegalTransition
from workers.unclaimed_uploads import remove_unclaimed_uploads

log = logging.getLogger("minqing.sweep")
AUTO_CLOSE_NOTE = "居民未在期限内评价，自动关闭。 Closed automatically: no feedback within the period."


def sweep(engine, *, auto_close_days: int, at: datetime | None = None, store=None,
          keep_uploads: timedelta | None = None) -> dict:
    """With `store`, uploads older than `keep_uploads` that nothing needs are removed as well."""
    at = at or base.now()
    closed = 0
    with engine.connect() as connection:
        waiting = cases.unrated_resolved(connection, at - timedelta(days=auto_close_days))
    for submission_id in waiting:
        try:
            with engine.begin() as connection:
                changes.transition(connection, submission_id, "close", actor="system", note=AUTO_CLOSE_NOTE,
                                   details={"auto_close": True})
            closed += 1
        except IllegalTransition:
            pass  # rated, reopened or closed by someone else since it was listed
    with engine.begin() as connection:
        overdue = counts.count_overdue_cases(connection, at)
    removed = remove_unclaimed_uploads(engine, store, at - keep_uploads) if store is not None else 0
    log.info("sweep: closed %s unrated cases, counted %s newly overdue, removed %s unclaimed uploads",
             closed, overdue, removed)
    return {"closed": closed, "overdue": overdue, "uploads_removed": removed}
