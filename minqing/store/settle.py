"""A recount's rows written in few statements: added to emptied tables, or a period's stored rows set to
what the recount found, writing only the rows that differ (a recount of correct tallies writes nothing).

psycopg runs an executemany as one statement per row, so on PostgreSQL each write is one statement whose
columns arrive as arrays (`unnest`), however many rows; SQLite's executemany is already a loop in C."""

from __future__ import annotations

import functools
from datetime import date, datetime, timezone

from sqlalchemy import String, any_, bindparam, delete, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from minqing.store.tables import (
    case_durations,
    duration_buckets,
    duration_hours,
    tallies,
    tally_days,
    tally_events,
    tally_months,
)

TALLY_KEY = ("metric", "kind", "community", "category", "day")
DURATION_KEY = ("submission_id", "event")
DURATION_VALUES = ("kind", "community", "category", "day", "seconds")
_TYPES = {"metric": "varchar", "kind": "varchar", "community": "varchar", "category": "varchar", "day": "date",
          "value": "float8", "submission_id": "varchar", "event": "varchar", "seconds": "float8",
          "month": "varchar", "hour": "int4", "bucket": "int4", "count": "int4"}
# Each table a recount writes: (table, key, values).
_TABLES = {"tallies": (tallies, TALLY_KEY, ("value",)),
           "case_durations": (case_durations, DURATION_KEY, DURATION_VALUES),
           "tally_months": (tally_months, ("metric", "kind", "community", "category", "month"), ("value",)),
           "tally_days": (tally_days, ("metric", "kind", "day"), ("value",)),
           "duration_hours": (duration_hours, ("kind", "event", "month", "hour"), ("count",)),
           "duration_buckets": (duration_buckets, ("kind", "event", "bucket", "month"), ("count",))}


def among(connection: Connection, column, ids: list[str]):
    """`column IN ids`; on PostgreSQL as one array parameter, not thousands the driver has to parse."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(String)))
    return column.in_(ids)


def _arrays(columns) -> str:
    return ", ".join(f"CAST(:{name} AS {_TYPES[name]}[])" for name in columns)


def _postgresql_upsert(table, key, values, adding: bool):
    columns = (*key, *values)
    if adding:
        action = ", ".join(f"{v} = {table.name}.{v} + excluded.{v}" for v in values)
    else:
        action = ", ".join(f"{v} = excluded.{v}" for v in values)
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({_arrays(columns)}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {action}")


def _postgresql_delete(table, key):
    matched = " AND ".join(f"t.{k} = u.{k}" for k in key)
    return text(f"DELETE FROM {table.name} t USING unnest({_arrays(key)}) AS u({', '.join(key)}) WHERE {matched}")


@functools.cache
def _statement(dialect: str, table_name: str, what: str):
    table, key, values = _TABLES[table_name]
    if dialect == "postgresql":
        return _postgresql_delete(table, key) if what == "delete" else _postgresql_upsert(table, key, values,
                                                                                            what == "add")
    if what == "delete":
        return delete(table).where(*(table.c[k] == bindparam(k) for k in key))
    statement = sqlite.insert(table)
    if what == "add":
        return statement.on_conflict_do_update(index_elements=list(key), set_={
            v: table.c[v] + statement.excluded[v] for v in values})
    return statement.on_conflict_do_update(index_elements=list(key), set_={v: statement.excluded[v] for v in values})


def _execute(connection: Connection, table_name: str, what: str, columns, rows: list[tuple]) -> None:
    if not rows:
        return
    dialect = connection.dialect.name
    statement = _statement(dialect, table_name, what)
    if dialect == "postgresql":
        connection.execute(statement, {name: [row[i] for row in rows] for i, name in enumerate(columns)})
    else:
        connection.execute(statement, [dict(zip(columns, row)) for row in rows])


def add_tallies(connection: Connection, sums: dict) -> None:
    """Add `sums` ({(metric, kind, community, category, day): value}) to the tallies."""
    _execute(connection, "tallies", "add", (*TALLY_KEY, "value"), [(*k, v) for k, v in sums.items()])


def add_durations(connection: Connection, durations: dict) -> None:
    """Write `durations` ({(submission_id, event): (kind, community, category, day, seconds)})."""
    _execute(connection, "case_durations", "set", (*DURATION_KEY, *DURATION_VALUES),
             [(*k, *v) for k, v in durations.items()])


def during(column, since: date | None, until: date | None) -> list:
    """The conditions that `column` (a day) falls in [since, until], either end open when None."""
    return [c for c in ((column >= since) if since else None, (column <= until) if until else None) if c is not None]


def settle_tallies(connection: Connection, sums: dict, since: date | None, until: date | None) -> int:
    """Make the tallies of the days [since, until] exactly `sums`; returns how many rows were written."""
    stored = {tuple(row[:5]): row[5] for row in connection.execute(
        select(*(tallies.c[k] for k in TALLY_KEY), tallies.c.value).where(*during(tallies.c.day, since, until))).all()}
    gone = [key for key in stored if key not in sums]
    changed = [(*key, value) for key, value in sums.items() if stored.get(key) != value]
    _execute(connection, "tallies", "delete", TALLY_KEY, gone)
    _execute(connection, "tallies", "set", (*TALLY_KEY, "value"), changed)
    return len(gone) + len(changed)


def settle_durations(connection: Connection, durations: dict, since: date | None, until: date | None) -> int:
    """Make the case durations of the days [since, until] exactly `durations`; returns the rows written."""
    stored = {tuple(row[:2]): tuple(row[2:]) for row in connection.execute(
        select(*(case_durations.c[k] for k in (*DURATION_KEY, *DURATION_VALUES)))
        .where(*during(case_durations.c.day, since, until))).all()}
    gone = [key for key in stored if key not in durations]
    changed = [(*key, *values) for key, values in durations.items() if stored.get(key) != values]
    _execute(connection, "case_durations", "delete", DURATION_KEY, gone)
    _execute(connection, "case_durations", "set", (*DURATION_KEY, *DURATION_VALUES), changed)
    return len(gone) + len(changed)


def settle_rows(connection: Connection, table_name: str, expected: dict, *where) -> int:
    """Make the rows of a one-value table (a rollup) that match `where` exactly `expected` ({key: value});
    a stored value within rounding of the expected one is left. Returns how many rows were written."""
    table, key, (value,) = _TABLES[table_name]
    stored = {tuple(row[:-1]): row[-1] for row in connection.execute(
        select(*(table.c[k] for k in key), table.c[value]).where(*where)).all()}
    gone = [k for k in stored if k not in expected]
    changed = [(*k, v) for k, v in expected.items()
               if k not in stored or abs(stored[k] - v) > 1e-9 * max(1.0, abs(v))]
    _execute(connection, table_name, "delete", key, gone)
    _execute(connection, table_name, "set", (*key, value), changed)
    return len(gone) + len(changed)


_GUARDS = text("INSERT INTO tally_events (submission_id, event, at) SELECT s, e, CAST(:at AS timestamp) "
               "FROM unnest(CAST(:ids AS varchar[]), CAST(:events AS varchar[])) AS u(s, e) ON CONFLICT DO NOTHING")


def add_guards(connection: Connection, ids: list[str], guards: list[tuple[str, str]], at: datetime,
               known: bool = True) -> None:
    """Add the (submission_id, event) keys of `guards` (all of cases `ids`) that tally_events lacks;
    `known=False` when the table holds none of them (emptied), so nothing is read first."""
    if known and guards:
        # As plain tuples: a set of rows compared each guard through Row.__eq__, twice the time.
        stored = {(case, event) for case, event in connection.execute(
            select(tally_events.c.submission_id, tally_events.c.event)
            .where(among(connection, tally_events.c.submission_id, ids))).all()}
        guards = [g for g in guards if g not in stored]
    if not guards:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(_GUARDS, {"ids": [s for s, _ in guards], "events": [e for _, e in guards],
                                     "at": at.astimezone(timezone.utc).replace(tzinfo=None)})
    else:
        connection.execute(sqlite.insert(tally_events).on_conflict_do_nothing(),
                           [{"submission_id": s, "event": e, "at": at} for s, e in guards])
