"""Dramatiq's RateLimiterBackend on a SQLite file: durable counters shared by the processes of one machine."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager

from dramatiq.rate_limits import RateLimiterBackend

from minqing.private_files import private_file
from minqing.wal import use_wal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rate_limits_expiry ON rate_limits (expires_at);
"""


class SQLiteBackend(RateLimiterBackend):
    """Counters with a time to live (ms), each operation one short write transaction."""

    def __init__(self, path) -> None:
        self.path = os.fspath(path)
        private_file(self.path)  # 0600, and so its -wal and -shm files
        self._local = threading.local()

    def add(self, key, value, ttl):
        with self._transaction() as (connection, now):
            if _get(connection, key, now) is not None:
                return False
            return _put(connection, key, value, ttl, now)

    def incr(self, key, amount, maximum, ttl):
        with self._transaction() as (connection, now):
            value = (_get(connection, key, now) or 0) + amount
            return value <= maximum and _put(connection, key, value, ttl, now)

    def decr(self, key, amount, minimum, ttl):
        with self._transaction() as (connection, now):
            value = (_get(connection, key, now) or 0) - amount
            return value >= minimum and _put(connection, key, value, ttl, now)

    def incr_and_sum(self, key, keys, amount, maximum, ttl):
        with self._transaction() as (connection, now):
            value = (_get(connection, key, now) or 0) + amount
            if value > maximum:
                return False
            total = amount + sum(_get(connection, k, now) or 0 for k in keys())
            return total <= maximum and _put(connection, key, value, ttl, now)

    def wait(self, key, timeout):
        # Only barriers wait; minqing uses none, and polling a file would be the sleeping we avoid.
        raise NotImplementedError("the SQLite rate limiter backend does not support barriers")

    def wait_notify(self, key, ttl):
        raise NotImplementedError("the SQLite rate limiter backend does not support barriers")

    @contextmanager
    def _transaction(self):
        connection = self._connection()
        # IMMEDIATE: read-then-write under the write lock, so two processes never both take the last slot.
        connection.execute("BEGIN IMMEDIATE")
        try:
            now = int(time.time() * 1000)
            connection.execute("DELETE FROM rate_limits WHERE expires_at <= ?", (now,))
            yield connection, now
            connection.execute("COMMIT")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    def _connection(self) -> sqlite3.Connection:
        key = os.getpid()
        if getattr(self._local, "pid", None) != key:
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            use_wal(connection)
            connection.executescript(_SCHEMA)
            self._local.connection, self._local.pid = connection, key
        return self._local.connection


def _get(connection, key, now):
    row = connection.execute("SELECT value FROM rate_limits WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
    return None if row is None else row[0]


def _put(connection, key, value, ttl, now) -> bool:
    connection.execute(
        "INSERT INTO rate_limits (key, value, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        (key, value, now + ttl),
    )
    return True
