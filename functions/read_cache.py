"""Answers to the public reads (tallies, dashboard) kept for a short while in each web process, so that a
public page asked for in a loop costs one indexed lookup, not a summary of the period, and answers with an
`ETag` a browser or proxy can revalidate for nothing.

An answer is reused while no tally has changed since it was made (the newest `tally_events.at`, one index
lookup), and, when tallies keep changing, for a while proportional to what it cost to make (20 times, at
most 30 s), so that busy intake cannot turn every public hit into a recount; never past a minute. While
one request makes a fresh answer, the others asking for it are given the one before (if under a minute
old) rather than each making their own: a page going stale under many readers costs one summary, not one
per reader waiting at that moment."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from flask import current_app, request

REUSE_FACTOR = 20
MOST_STALE = 30.0
LONGEST = 60.0
ENTRIES = 64


class ReadCache:
    def __init__(self):
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict = {}  # key → how many requests are making its answer now

    def get(self, key, token, make):
        """The answer under `key` made at `token`, or a fresh one from `make()`; (answer, etag)."""
        clock = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                made_at, made_token, cost, answer, etag = entry
                age = clock - made_at
                if age < LONGEST and (made_token == token or age < min(MOST_STALE, REUSE_FACTOR * cost)
                                      or self._making.get(key)):
                    return answer, etag
            self._making[key] = self._making.get(key, 0) + 1
        try:
            answer = make()
        finally:
            with self._lock:
                self._making[key] -= 1
                if not self._making[key]:
                    del self._making[key]
        etag = '"' + hashlib.sha256(answer if isinstance(answer, bytes) else answer.encode()).hexdigest()[:32] + '"'
        with self._lock:
            self._entries[key] = (clock, token, time.monotonic() - clock, answer, etag)
            self._entries.move_to_end(key)
            while len(self._entries) > ENTRIES:
                self._entries.popitem(last=False)
        return answer, etag


def read_cache() -> ReadCache:
    return current_app.extensions.setdefault("minqing.read_cache", ReadCache())


def not_modified(etag: str) -> bool:
    """The client already holds this answer (If-None-Match)."""
    return etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")} or \
        request.headers.get("If-None-Match", "").strip() == "*"
