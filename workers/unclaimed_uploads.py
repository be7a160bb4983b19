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


from minqing.store import photos

log = logging.getLogger("minqing.sweep")
# Uploads are timed by the store's clock, submissions by the web host's: allow for the two to differ.
CLOCK_SKEW = timedelta(hours=1)


def remove_unclaimed_uploads(engine, store, cutoff: datetime) -> int:
    """Remove each upload written before `cutoff` that no stored submission or case step still needs."""
    candidates = dict(store.uploads_before(cutoff))
    if not candidates:
        return 0
    with engine.connect() as connection:
        needed = photos.still_needed(connection, since=min(candidates.values()) - CLOCK_SKEW)
    removed = 0
    for key in candidates:
        if key not in needed:
            store.delete(key)
            removed += 1
    return removed


