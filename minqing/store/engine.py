"""Database engines and schema upgrades (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import fcntl
import json

import orjson
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from minqing.private_files import open_private, private_file
from minqing.wal import use_wal

MIGRATIONS = "minqing.store:migrations"
# The newest migration, so that a process starting on an up-to-date database can tell without importing
# Alembic (and Mako), which is most of a worker's start-up. A test keeps it equal to Alembic's head.
HEAD = "0018"


def _json_loads(text):
    """The stored forms and details decoded by orjson (a third of a recount's and a fifth of an export's
    time went on json.loads); json's own for what orjson refuses and json.dumps writes (Infinity, NaN). Every
    integer a form or an action takes is bounded, far inside the 64 bits orjson reads exactly."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, *, pool_size: int = 10, pre_ping: bool = True) -> Engine:
    """An engine for `url`; plain `postgresql://` URLs use psycopg 3.

    Workers turn `pre_ping` off: it costs a round trip per transaction, and an actor that meets a dropped
    connection fails, the pool discards the connection and the retry gets a fresh one.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(parsed.database)  # 0600, and so its -wal and -shm files, whatever the umask
        engine = create_engine(parsed, connect_args={"timeout": 30}, json_deserializer=_json_loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
        json_deserializer=_json_loads,
    )


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the web process read while a worker writes; NORMAL is durable in WAL mode across crashes of
    # the process (only an OS crash can lose the last commits, and the queue still holds those messages).
    use_wal(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe when several processes start at once."""
    if revision == "head" and current_revision(engine) == HEAD:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    # Alembic runs the transaction itself, so that a migration may step out of it (CREATE INDEX CONCURRENTLY).
    with _migration_lock(engine), engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database records; None before the first upgrade (or if it is unreachable)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no table yet, or no database: the full upgrade says what is wrong
        return None


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    if engine.dialect.name == "sqlite":
        lock_path = Path(engine.url.database or "minqing.db").with_suffix(".migrate.lock")
        with open_private(lock_path) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(7236591)"))
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(7236591)"))
            connection.commit()


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
