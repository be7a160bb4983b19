"""The periodic sweep: remind reporters of resolved cases they have not rated (once), close resolved cases
nobody rated, count cases that went overdue, and remove uploads nobody needs (unclaimed_uploads.py).

Run by `minqing cases sweep` (from cron or a systemd timer, e.g. hourly) and, on the embedded default,
by `minqing serve` every hour. Safe to run anywhere and as often as wanted: every step is a locked
transition or a keyed tally increment, so two sweeps at once change nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from minqing.store import base, cases, changes, counts, outbox
from minqing.domain.workflow import IllegalTransition, wants_updates
from workers.brokers import REMIND_REPORTER
from workers.unclaimed_uploads import remove_unclaimed_uploads

log = logging.getLogger("minqing.sweep")
AUTO_CLOSE_NOTE = "居民未在期限内评价，自动关闭。 Closed automatically: no feedback within the period."


def sweep(engine, *, auto_close_days: int, at: datetime | None = None, store=None,
          keep_uploads: timedelta | None = None, remind_after_days: int | None = None, enqueue=None) -> dict:
    """With `store`, uploads older than `keep_uploads` that nothing needs are removed as well; with `enqueue`
    (actor name, *args), reporters who asked for updates are reminded `remind_after_days` after resolution."""
    at = at or base.now()
    reminded = 0
    if enqueue is not None and remind_after_days is not None and remind_after_days < auto_close_days:
        with engine.connect() as connection:
            due = cases.unrated_resolved(connection, at - timedelta(days=remind_after_days))
            due = [sid for sid in due if wants_updates(cases.submission(connection, sid).payload)
                   and not outbox.has_event(connection, sid, "reporter-reminder")]
        for submission_id in due:
            enqueue(REMIND_REPORTER, submission_id)  # the actor adds the one outbox row: a repeat sends nothing
            reminded += 1
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
    log.info("sweep: reminded %s reporters, closed %s unrated cases, counted %s newly overdue, removed %s "
             "unclaimed uploads", reminded, closed, overdue, removed)
    return {"reminded": reminded, "closed": closed, "overdue": overdue, "uploads_removed": removed}
