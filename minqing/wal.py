"""Switching a SQLite file to write-ahead logging, for the queue, the store and the rate limits alike."""

from __future__ import annotations

import sqlite3
import time


def use_wal(connection: sqlite3.Connection, *, wait_s: float = 5.0) -> None:
    """Put the file behind `connection` in WAL mode, waiting up to `wait_s` for a racing opener.

    Only the first opener of a fresh file switches it, under an exclusive lock. Two openers racing to
    switch deadlock on their shared locks, and SQLite answers one of them "locked" at once, without
    waiting out the busy timeout; that one waits here and finds the switch made.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
            if mode == "wal" or connection.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal":
                return
            raise sqlite3.OperationalError("WAL is unavailable for this file")
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
