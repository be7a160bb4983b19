"""The embedded default broker: durable Dramatiq queues in one SQLite file (WAL), shared by the
processes of one machine — web processes enqueue, worker processes consume.

Each message is a row. ``available_at`` (ms since the epoch) is both when a delayed message falls
due and when a consumer's lease runs out, so a message held by a process that dies is simply due
again once its lease expires: delivery is at least once, never lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import traceback
import uuid
from collections import deque
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

from dramatiq.broker import Broker, Consumer, MessageProxy
from dramatiq.common import compute_backoff, dq_name, q_name
from dramatiq.errors import ConnectionClosed, ConnectionFailed, DecodeError, QueueJoinTimeout
from dramatiq.message import Message

from minqing.private_files import open_private, private_file
from minqing.wal import use_wal

log = logging.getLogger("minqing.queue")

BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS dramatiq_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a late ack cannot delete a newer message
    queue TEXT NOT NULL, message_id TEXT NOT NULL, body BLOB NOT NULL,
    available_at INTEGER NOT NULL, lease_owner TEXT, deliveries INTEGER NOT NULL DEFAULT 0,
    enqueued_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dramatiq_messages_due ON dramatiq_messages (queue, available_at);
COMMIT;
"""
_INSERT = "INSERT INTO dramatiq_messages (queue, message_id, body, available_at, enqueued_at) "
_LEASE_DUE = """
UPDATE dramatiq_messages SET available_at = ?, lease_owner = ?, deliveries = deliveries + 1
WHERE id IN (SELECT id FROM dramatiq_messages WHERE queue = ? AND available_at <= ? ORDER BY available_at LIMIT ?)
RETURNING id, body
"""


class SQLiteBroker(Broker):
    """A Dramatiq broker on the SQLite file at ``path``; times are in milliseconds.

    A fetched message is leased for ``visibility_timeout`` and its consumer renews the lease while
    it holds the message; idle consumers poll at least every ``poll_interval``.
    """

    def __init__(self, path, *, middleware=None, visibility_timeout: int = 60_000, poll_interval: int = 100):
        super().__init__(middleware=middleware)
        self.path = os.fspath(path)
        self.visibility_timeout = visibility_timeout
        self.poll_interval = poll_interval
        self.queues: set[str] = set()
        self._local = threading.local()
        self._generation = 0
        self._processes: dict[int, _ProcessState] = {}

    @property
    def _here(self) -> _ProcessState:
        # Only the file is shared with a parent process: a forked child gets its own lease owner,
        # held leases and connections (the parent's are dropped, never used). setdefault is
        # atomic, so threads racing to start see the same state.
        pid = os.getpid()
        return self._processes.get(pid) or self._processes.setdefault(pid, _ProcessState())

    def _connection(self) -> sqlite3.Connection:
        local, key = self._local, (os.getpid(), self._generation)
        if getattr(local, "key", None) != key:
            local.connection = local.lock_file = local.wal = None
            connection = self._connect()
            # Named after the file as SQLite names it (beside the file a symlinked path leads to), as its log is.
            local.main_file = connection.execute("PRAGMA database_list").fetchone()[2]
            local.lock_file = open_private(local.main_file + ".lock")
            local.connection, local.key = connection, key
        return local.connection

    @contextmanager
    def _writing(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """This thread's connection for one write transaction; with ``durable``, synced to disk after it."""
        # SQLite's own busy handler sleeps 1, 2, 5, 10… ms between tries, so writers of several processes
        # that collide lose milliseconds each time. Queued on a kernel lock, the next one starts the moment
        # the last one is done. The lock is held for one transaction, which itself gives up after the busy
        # timeout, and the kernel drops it with a process that dies.
        connection, local = self._connection(), self._local
        fcntl.flock(local.lock_file, fcntl.LOCK_EX)
        try:
            yield connection
        finally:
            fcntl.flock(local.lock_file, fcntl.LOCK_UN)
        if durable:
            # Commits run at synchronous=NORMAL: the log is written but not synced. Synced here, once the
            # write lock is free, the commit survives power loss before the caller is answered, and writers
            # syncing at the same moment share one flush of the disk instead of queueing for one each.
            # Only what producers write needs it: a consumer's lease, ack or dead letter that is lost
            # merely delivers a message again.
            if local.wal is None:
                local.wal = open(local.main_file + "-wal", "rb")
            os.fdatasync(local.wal.fileno())

    def _connect(self) -> sqlite3.Connection:
        # The first process on a fresh machine may be any of serve, worker or scheduler.
        # Made 0600 before SQLite opens it, so its -wal and -shm files are too, whatever the umask.
        private_file(self.path)
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            use_wal(connection, wait_s=BUSY_TIMEOUT_SECONDS)
            connection.execute("PRAGMA synchronous=NORMAL")  # see _writing for what makes commits durable
            if not self._here.schema_ready:
                connection.executescript(_SCHEMA)
                self._here.schema_ready = True
        except BaseException:
            connection.close()
            raise
        return connection

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> Consumer:
        """A consumer of ``queue_name`` holding at most ``prefetch`` messages, idling up to ``timeout`` ms."""
        return _SQLiteConsumer(self, queue_name, prefetch, timeout)

    def declare_queue(self, queue_name: str) -> None:
        if queue_name not in self.queues:
            self.emit_before("declare_queue", queue_name)
            self.queues.add(queue_name)
            self.emit_after("declare_queue", queue_name)
            # The Worker consumes the delay queues it is told about; ours always stay empty.
            delayed_name = dq_name(queue_name)
            self.delay_queues.add(delayed_name)
            self.emit_after("declare_delay_queue", delayed_name)

    def enqueue(self, message: Message, *, delay: Optional[int] = None) -> Message:
        """Commit ``message``, due in ``delay`` ms; ConnectionFailed if the file is unusable."""
        # A delayed message waits on its own queue with a future available_at and no "eta", so the
        # Worker never holds it in memory and its delay-queue consumers find nothing to do. The copy
        # leaves the sender's message as it was; a message already as stored needs none.
        eta, queue_name = message.options.get("eta"), q_name(message.queue_name)
        if eta is not None or queue_name != message.queue_name:
            message = message.copy(queue_name=queue_name)
            message.options.pop("eta", None)
        now = _now()
        available_at = max(now + (delay or 0), eta or 0)
        self.emit_before("enqueue", message, delay)
        with _mapped(ConnectionFailed):
            row = (message.queue_name, message.message_id, message.encode(), available_at, now)
            self._here.commits.commit(row, self._insert)
        self.emit_after("enqueue", message, delay)
        return message

    def _insert(self, rows: list[tuple]) -> None:
        # One statement, committed by itself: the write lock is held for a single call into SQLite.
        values = ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
        with self._writing() as connection:
            connection.execute(_INSERT + "VALUES " + values, [value for row in rows for value in row])

    def get_declared_queues(self) -> set[str]:
        return self.queues.copy()

    def flush(self, queue_name: str) -> None:
        self._delete([q_name(queue_name), dq_name(queue_name)], ["dramatiq_messages"])

    def flush_all(self) -> None:
        """Drop every message of the declared queues."""
        self._delete(sorted(self.queues | self.delay_queues), ["dramatiq_messages"])

    def _delete(self, queue_names: list[str], tables: list[str]) -> None:
        with _mapped(ConnectionFailed), self._writing() as connection, _immediate(connection):
            for table in tables:
                sql = f"DELETE FROM {table} WHERE queue IN (SELECT value FROM json_each(?))"
                connection.execute(sql, (json.dumps(queue_names),))

    def join(self, queue_name: str, *, interval: int = 100, timeout: Optional[int] = None) -> None:
        """Wait until ``queue_name`` holds no live message (see pending_count); for tests."""
        deadline = timeout and time.monotonic() + timeout / 1000
        while self.pending_count(queue_name):
            if deadline and time.monotonic() >= deadline:
                raise QueueJoinTimeout(queue_name)
            time.sleep(interval / 1000)

    def pending_count(self, queue_name: str) -> int:
        """How many live messages ``queue_name`` holds: ready, delayed or being processed."""
        with _mapped(ConnectionFailed):
            sql = "SELECT count(*) FROM dramatiq_messages WHERE queue = ?"
            return self._connection().execute(sql, (q_name(queue_name),)).fetchone()[0]

    def ping(self) -> None:
        """Raise ConnectionFailed unless the queue file can be opened and read (for /readyz)."""
        with _mapped(ConnectionFailed):
            self._connection().execute("SELECT 1 FROM dramatiq_messages LIMIT 1").fetchall()

    def close(self) -> None:
        """Close this thread's connection; other threads drop theirs and reconnect on next use."""
        self._generation += 1
        key = getattr(self._local, "key", None)
        if key and key[0] == os.getpid():
            for resource in (self._local.connection, self._local.lock_file, self._local.wal):
                if resource is not None:
                    resource.close()
        self._local.connection = self._local.lock_file = self._local.wal = self._local.key = None

    # For consumers. Leases are tracked per broker and queue, not per consumer, because the Worker
    # acks through whichever consumer is current, also after it has restarted a failed one.

    def _lease_due(self, queue_name: str, limit: int) -> list[tuple[int, bytes]]:
        connection, now = self._connection(), _now()
        # Look before taking the write lock, so idle polling never holds up enqueuers.
        due = "SELECT EXISTS (SELECT 1 FROM dramatiq_messages WHERE queue = ? AND available_at <= ?)"
        if not connection.execute(due, (queue_name, now)).fetchone()[0]:
            return []
        here = self._here
        with self._writing(durable=False), _immediate(connection):
            lease = (now + self.visibility_timeout, here.owner, queue_name, now, limit)
            rows = connection.execute(_LEASE_DUE, lease).fetchall()
        with here.acked:
            here.leased.setdefault(queue_name, set()).update(row_id for row_id, _ in rows)
        return sorted(rows)

    def _room(self, queue_name: str, prefetch: int, wait: float) -> int:
        here = self._here
        with here.acked:
            here.acked.wait_for(lambda: len(here.leased.get(queue_name, ())) < prefetch, wait)
            return prefetch - len(here.leased.get(queue_name, ()))

    def _renew(self, queue_name: str) -> None:
        here = self._here
        with here.acked:
            row_ids = list(here.leased.get(queue_name, ()))
        if row_ids:
            self._update_leases(row_ids, _now() + self.visibility_timeout, here.owner)

    def _release(self, queue_name: str, row_ids: list[int]) -> None:
        if row_ids:
            self._update_leases(row_ids, _now(), None)
            self._forget(queue_name, row_ids)

    def _update_leases(self, row_ids: list[int], available_at: int, owner: Optional[str]) -> None:
        # Only our own leases: one that expired and went to another consumer is theirs now.
        with self._writing(durable=False) as connection:
            connection.execute(
                "UPDATE dramatiq_messages SET available_at = ?, lease_owner = ?"
                " WHERE lease_owner = ? AND id IN (SELECT value FROM json_each(?))",
                (available_at, owner, self._here.owner, json.dumps(row_ids)),
            )

    def _ack(self, queue_name: str, row_id: int) -> None:
        with self._writing(durable=False) as connection:
            connection.execute("DELETE FROM dramatiq_messages WHERE id = ?", (row_id,))
        self._forget(queue_name, [row_id])

    def _forget(self, queue_name: str, row_ids: Iterable[int]) -> None:
        here = self._here
        with here.acked:
            here.leased.get(queue_name, set()).difference_update(row_ids)
            here.acked.notify_all()


class _ProcessState:
    def __init__(self) -> None:
        self.owner = uuid.uuid4().hex  # marks the leases this process holds
        self.leased: dict[str, set[int]] = {}  # row ids by queue
        self.acked = threading.Condition()  # guards leased; notified whenever leases end
        self.schema_ready = False
        self.commits = _GroupCommit()


class _GroupCommit:
    """Rows that this process's threads enqueue at the same moment go to the file in one commit.

    A sync to disk costs about as much for ten rows as for one. While one batch is written and synced,
    the rows of the threads that arrive meanwhile gather in the next batch. Its first thread writes them
    all once the writer is free; the others wait on that batch alone and are woken together when it is
    done. Each caller returns once its own row is written and synced, or raises the error its batch met.
    """

    def __init__(self) -> None:
        self.writer = threading.Lock()  # held while a batch is written
        self.guard = threading.Lock()  # guards batch
        self.batch = _Batch()  # gathering rows

    def commit(self, row: tuple, write) -> None:
        with self.guard:
            batch = self.batch
            batch.rows.append(row)
            leads = len(batch.rows) == 1
        if leads:
            with self.writer:
                with self.guard:
                    self.batch = _Batch()
                try:
                    write(batch.rows)
                except BaseException as e:
                    batch.error = e
                finally:
                    batch.done.set()
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error


class _Batch:
    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.done = threading.Event()
        self.error: Optional[BaseException] = None


class _SQLiteMessageProxy(MessageProxy):
    def __init__(self, message: Message, row_id: int) -> None:
        super().__init__(message)
        self.row_id = row_id


class _SQLiteConsumer(Consumer):
    # The Worker calls __next__ from its consumer thread but ack/nack from its worker threads and
    # requeue/close from the thread stopping it; the broker gives each thread its own connection.

    def __init__(self, broker: SQLiteBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        self.broker, self.queue_name, self.prefetch = broker, queue_name, prefetch
        self.max_backoff = min(timeout, broker.poll_interval)
        self.fetched: deque[tuple[int, bytes]] = deque()  # leased, not handed out yet
        self.misses = 0
        self.renewed_at = time.monotonic()

    def __next__(self) -> Optional[MessageProxy]:
        with _mapped(ConnectionClosed):
            if time.monotonic() - self.renewed_at >= self.broker.visibility_timeout / 3000:
                self.broker._renew(self.queue_name)
                self.renewed_at = time.monotonic()
            if not self.fetched:
                # With no room, wait for an ack rather than sleep: the workers would idle meanwhile.
                room = self.broker._room(self.queue_name, self.prefetch, self.max_backoff / 1000)
                if room <= 0:
                    return None
                self.fetched.extend(self.broker._lease_due(self.queue_name, room))
            while self.fetched:
                row_id, body = self.fetched.popleft()
                try:
                    message = Message.decode(body)
                except DecodeError:  # it would fail the same way on every delivery: no actor will ever run it
                    log.error("queue %s: dropped message %s, which cannot be decoded: %r", self.queue_name, row_id,
                              body[:200])
                    self.broker._ack(self.queue_name, row_id)
                    continue
                self.misses = 0
                return _SQLiteMessageProxy(message, row_id)
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.max_backoff)
        time.sleep(backoff_ms / 1000)
        return None

    def ack(self, message: _SQLiteMessageProxy) -> None:
        with _mapped(ConnectionClosed):
            self.broker._ack(self.queue_name, message.row_id)

    def nack(self, message: _SQLiteMessageProxy) -> None:
        # A message that failed for good leaves the queue; the DeadLetters middleware (workers/middleware.py)
        # has kept it, with its error, in the database's dead letters, the one store `minqing dead-letters`
        # reads and retries from. Queue files made by earlier versions may still hold a table of their own;
        # nothing reads it.
        with _mapped(ConnectionClosed):
            self.broker._ack(self.queue_name, message.row_id)

    def requeue(self, messages: Iterable[_SQLiteMessageProxy]) -> None:
        with _mapped(ConnectionClosed):
            self.broker._release(self.queue_name, [message.row_id for message in messages])

    def close(self) -> None:
        rows, self.fetched = list(self.fetched), deque()
        with _mapped(ConnectionClosed):
            self.broker._release(self.queue_name, [row_id for row_id, _ in rows])


def _error_text(message: MessageProxy) -> Optional[str]:
    exception = getattr(message, "_exception", None)
    if exception is not None:
        return "".join(traceback.format_exception(exception))
    return message.options.get("traceback")


def _now() -> int:
    # Wall-clock milliseconds, because leases and due times are compared across processes.
    return int(time.time() * 1000)


@contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    # BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a
    # read-then-write transaction never fails halfway with SQLITE_BUSY.
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")


@contextmanager
def _mapped(error_class: type[Exception]) -> Iterator[None]:
    # Dramatiq and our HTTP layer understand broker connection errors, not sqlite3's.
    try:
        yield
    except (sqlite3.Error, OSError) as e:
        raise error_class(f"SQLite broker: {e}") from e
