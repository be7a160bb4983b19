"""The primitives every query builds on: the clock, inserts that ignore a known key, the locked case row,
a read run alongside another."""

from __future__ import annotations

import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from minqing.store.tables import submissions

# The one clock: the schemas' own, since they check dates against it and may import nothing of ours.
from schemas.fields import now  # noqa: F401 - the queries stamp their rows with base.now()


@functools.cache
def _all_ignoring_known(dialect: str, table):
    # Built once per dialect and table, with values passed at execution: building `.values(**row)` for
    # every call costs more CPU than the round trip.
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    return insert(table).on_conflict_do_nothing()


@functools.cache
def _ignoring_known(dialect: str, table):
    # RETURNING, not rowcount: drivers differ in what rowcount says for INSERT … ON CONFLICT.
    return _all_ignoring_known(dialect, table).returning(list(table.primary_key.columns)[0])


def insert_ignoring_known(connection: Connection, table, values: dict) -> bool:
    """Insert unless the primary or unique key is known; True when a row was added."""
    return connection.execute(_ignoring_known(connection.dialect.name, table), values).first() is not None


def insert_all_ignoring_known(connection: Connection, table, rows: list[dict]) -> None:
    """Insert the rows whose key is not known yet, in one statement."""
    if rows:
        connection.execute(_all_ignoring_known(connection.dialect.name, table), rows)


@functools.cache
def adding_to(dialect: str, table, column: str = "value"):
    """INSERT that adds `column` to the row with the same primary key when there is one: how every count
    (tallies, their rollups, the patrol teams') grows."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(index_elements=[c.name for c in table.primary_key.columns],
                                           set_={column: table.c[column] + statement.excluded[column]})


def locked_submission(connection: Connection, submission_id: str):
    """The case, locked for this transaction on PostgreSQL so concurrent staff actions queue; LookupError if unknown."""
    query = select(submissions).where(submissions.c.id == submission_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).one_or_none()
    if row is None:
        raise LookupError(submission_id)
    return row


_readers: ThreadPoolExecutor | None = None


def _forget_readers() -> None:
    global _readers
    _readers = None  # a forked web worker has none of its parent's threads


os.register_at_fork(after_in_child=_forget_readers)


def read_alongside(engine: Engine, read, *args, **kwargs) -> Future:
    """`read(connection, *args, **kwargs)` on a connection of its own, in a thread: the database runs it while
    the caller's thread works through the rows of its own statements (a public count's medians beside its
    sums). It sees what is committed, so it is not for a caller's own uncommitted writes.

    On SQLite it is read at once, in the caller's thread: the database works in this process, and a thread
    only shared its cores (measured at 100,000 cases: no faster, some calls slower)."""

    def run():
        with engine.connect() as connection:
            return read(connection, *args, **kwargs)

    if engine.dialect.name != "postgresql":
        done: Future = Future()
        try:
            done.set_result(run())
        except Exception as e:
            done.set_exception(e)
        return done
    global _readers
    if _readers is None:
        _readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="minqing-read")
    return _readers.submit(run)
