"""The tallies' rollups: sums by month (and by day over communities and categories) and durations counted
by the hundredth of an hour, kept in the transaction that adds to `tallies` and `case_durations`, refreshed
from them by the rebuild, and read for a period: whole months from the rollups, the days of a partial month
at either end from `tallies` and `case_durations` themselves. What a read costs is bounded by the period's
months and the directory, not by the cases stored."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from types import SimpleNamespace

import orjson
from sqlalchemy import (
    String,
    and_,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from minqing.domain.tallies import (
    BUCKET_SECONDS,
    BUCKETS_PER_HOUR,
    at_rank,
    bucket_median,
    bucket_of,
    middle_ranks,
    month_of,
)
from minqing.store import base
from minqing.store.tables import (
    case_durations,
    duration_buckets,
    duration_hours,
    tallies,
    tally_days,
    tally_months,
)
from schemas.choices import KINDS

_SUMMED = {tally_months: "value", tally_days: "value", duration_hours: "count", duration_buckets: "count"}


def add(connection: Connection, sums: dict, durations: list[dict]) -> None:
    """Add tally increments, summed by (metric, kind, community, category, day), and new case_durations rows
    to the rollups, in the caller's transaction."""
    months: dict = defaultdict(float)
    days: dict = defaultdict(float)
    for (metric, kind, community, category, day), value in sums.items():
        months[(metric, kind, community, category, month_of(day))] += value
        days[(metric, kind, day)] += value
    hours: Counter = Counter()
    buckets: Counter = Counter()
    for row in durations:
        bucket, month = bucket_of(row["seconds"]), month_of(row["day"])
        hours[(row["kind"], row["event"], month, bucket // BUCKETS_PER_HOUR)] += 1
        buckets[(row["kind"], row["event"], bucket, month)] += 1
    dialect = connection.dialect.name
    named = ((tally_months, ("metric", "kind", "community", "category", "month"), months),
             (tally_days, ("metric", "kind", "day"), days), (duration_hours, ("kind", "event", "month", "hour"), hours),
             (duration_buckets, ("kind", "event", "bucket", "month"), buckets))
    for table, names, found in named:
        if found:
            # In key order, so that concurrent workers lock the shared rows in one order and cannot deadlock.
            column = _SUMMED[table]
            connection.execute(base.adding_to(dialect, table, column),
                               [dict(zip(names, key), **{column: value}) for key, value in sorted(found.items())])


def _month_of(column, dialect: str):
    # SQLite keeps a date as its ISO text: the first seven characters are the month.
    # The format a literal, not a parameter: a GROUPING SETS read names the expression twice, and two
    # parameters would be two expressions to PostgreSQL.
    return (func.to_char(column, literal_column("'YYYY-MM'")) if dialect == "postgresql"
            else func.substr(column, 1, 7))


def _bucket_sql(column, dialect: str):
    # bucket_of in SQL: floor(s / 36 + 0.5) with the same double arithmetic. Below a second is bucket 0 either
    # way, so max(s, 1) (not 0), which also spares PostgreSQL an underflow error on a subnormal s / 36. CAST
    # truncates on SQLite, which is floor for what is never negative; PostgreSQL's would round, hence floor().
    if dialect == "postgresql":
        return func.floor(func.greatest(column, 1.0) / float(BUCKET_SECONDS) + 0.5).cast(postgresql.INTEGER)
    return func.cast(func.max(column, 1.0) / float(BUCKET_SECONDS) + 0.5, sqlite.INTEGER)


def _whole_months(since: date | None, until: date | None) -> tuple[date | None, date | None]:
    """The first day of the first month and the last day of the last month within the months of [since, until]."""
    first = since.replace(day=1) if since else None
    last = (until.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1) if until else None
    return first, last


def refresh(connection: Connection, since: date | None = None, until: date | None = None) -> None:
    """Recompute the rollups of the months of [since, until] (all when both are None) from `tallies` and
    `case_durations`, set-based, in the caller's transaction: what the rebuild calls after a period."""
    dialect = connection.dialect.name
    first, last = _whole_months(since, until)
    t, d = tallies.c, case_durations.c

    def within(column, low, high):
        return and_(true(), *([column >= low] if low else []), *([column <= high] if high else []))

    low, high = first and month_of(first), last and month_of(last)
    for table in (tally_months, duration_hours, duration_buckets):
        connection.execute(delete(table).where(within(table.c.month, low, high)))
    connection.execute(delete(tally_days).where(within(tally_days.c.day, first, last)))
    month = _month_of(t.day, dialect)
    connection.execute(insert(tally_months).from_select(
        ["metric", "kind", "community", "category", "month", "value"],
        select(t.metric, t.kind, t.community, t.category, month, func.sum(t.value)).where(
            within(t.day, first, last)).group_by(t.metric, t.kind, t.community, t.category, month)))
    connection.execute(insert(tally_days).from_select(
        ["metric", "kind", "day", "value"],
        select(t.metric, t.kind, t.day, func.sum(t.value)).where(within(t.day, first, last))
        .group_by(t.metric, t.kind, t.day)))
    month, bucket = _month_of(d.day, dialect), _bucket_sql(d.seconds, dialect)
    counted = select(d.kind, d.event, month.label("month"), bucket.label("bucket")).where(
        within(d.day, first, last)).subquery()
    connection.execute(insert(duration_buckets).from_select(
        ["kind", "event", "bucket", "month", "count"],
        select(counted.c.kind, counted.c.event, counted.c.bucket, counted.c.month, func.count())
        .group_by(counted.c.kind, counted.c.event, counted.c.bucket, counted.c.month)))
    hour = duration_buckets.c.bucket // BUCKETS_PER_HOUR
    connection.execute(insert(duration_hours).from_select(
        ["kind", "event", "month", "hour", "count"],
        select(duration_buckets.c.kind, duration_buckets.c.event, duration_buckets.c.month, hour,
               func.sum(duration_buckets.c.count)).where(within(duration_buckets.c.month, low, high))
        .group_by(duration_buckets.c.kind, duration_buckets.c.event, duration_buckets.c.month, hour)))


def settle(connection: Connection, sums: dict, durations: dict, since: date | None, until: date | None) -> None:
    """The rollups of a recounted period [since, until] made from the recount's own sums and durations (the
    period's tallies and case durations, exactly), writing only the rows that differ: the period's days and
    its whole months; a partial month at either end is refreshed from the tables, which hold its other days.
    What a month's refresh cost (aggregating the month's rows again) is gone when the recount agrees."""
    from minqing.store import settle as rows

    (first, last), edges = split(since, until)

    def whole(month: str) -> bool:
        return (first is None or month >= first) and (last is None or month <= last)

    days: dict = defaultdict(float)
    months: dict = defaultdict(float)
    for (metric, kind, community, category, day), value in sums.items():
        days[(metric, kind, day)] += value
        month = month_of(day)
        if whole(month):
            months[(metric, kind, community, category, month)] += value
    hours: Counter = Counter()
    buckets: Counter = Counter()
    for (_, event), (kind, _community, _category, day, seconds) in durations.items():
        month = month_of(day)
        if whole(month):
            bucket = bucket_of(seconds)
            hours[(kind, event, month, bucket // BUCKETS_PER_HOUR)] += 1
            buckets[(kind, event, bucket, month)] += 1
    rows.settle_rows(connection, "tally_days", days, *rows.during(tally_days.c.day, since, until))
    if first is None or last is None or first <= last:
        rows.settle_rows(connection, "tally_months", months, _in_months(tally_months.c.month, (first, last)))
        rows.settle_rows(connection, "duration_hours", hours, _in_months(duration_hours.c.month, (first, last)))
        rows.settle_rows(connection, "duration_buckets", buckets, _in_months(duration_buckets.c.month, (first, last)))
    for low, high in edges:
        refresh(connection, low, high)


# --- Reading a period ------------------------------------------------------------------------------------


def split(since: date | None, until: date | None):
    """The period as (first, last) month ("YYYY-MM", None for open; first > last when there is none) read
    from the rollups, and the edge days [(a, b)] of a partial month at either end, read day by day."""
    edges = []
    first = last = None
    if since is not None:
        start = since if since.day == 1 else (since.replace(day=28) + timedelta(days=4)).replace(day=1)
        if start != since:
            edges.append((since, min(start - timedelta(days=1), until) if until else start - timedelta(days=1)))
        first = month_of(start)
    if until is not None:
        end = until if (until + timedelta(days=1)).day == 1 else until.replace(day=1) - timedelta(days=1)
        opening = end + timedelta(days=1)
        if end != until and (since is None or opening > since):
            edges.append((opening, until))
        last = month_of(end)
    return (first, last), edges


def _in_months(column, months):
    first, last = months
    return and_(true(), *([column >= first] if first else []), *([column <= last] if last else []))


def grouped(connection: Connection, names: list[str], since: date | None, until: date | None,
            where=None) -> list:
    """Tallies summed by `names` (of metric, kind, community, category, month) for [since, until]:
    rows with those attributes and `value`. `where(columns)` filters the rows summed."""
    months, edges = split(since, until)
    sums: dict = defaultdict(float)
    m = tally_months.c
    query = select(*[m[n] for n in names], func.sum(m.value)).where(_in_months(m.month, months))
    if where is not None:
        query = query.where(where(m))
    for *key, value in connection.execute(query.group_by(*[m[n] for n in names])).all():
        sums[tuple(key)] += value
    t = tallies.c
    month = _month_of(t.day, connection.dialect.name)
    columns = [month if n == "month" else t[n] for n in names]
    for low, high in edges:
        query = select(*columns, func.sum(t.value)).where(t.day >= low, t.day <= high)
        if where is not None:
            query = query.where(where(t))
        for *key, value in connection.execute(query.group_by(*columns)):
            sums[tuple(key)] += value
    return [SimpleNamespace(**dict(zip(names, key)), value=value) for key, value in sums.items()]


def grouped_sets(connection: Connection, sets: list[tuple[str, ...]], since: date | None,
                 until: date | None) -> list[dict]:
    """Tallies summed by each of `sets` (tuples of metric, kind, community, category, month) for [since,
    until], as one {key: value} per set. On PostgreSQL the rollups are read once for all of them (GROUPING
    SETS): each grouping of `grouped` was a scan of the period's months of its own."""
    if connection.dialect.name != "postgresql":
        return [{tuple(getattr(r, n) for n in names): r.value for r in grouped(connection, list(names), since, until)}
                for names in sets]
    months, edges = split(since, until)
    every = list(dict.fromkeys(n for names in sets for n in names))
    # grouping() of every column: a bit per column, the first the highest, set for those summed over.
    which = {sum(1 << (len(every) - 1 - k) for k, name in enumerate(every) if name not in names): n
             for n, names in enumerate(sets)}
    picks = [[every.index(name) for name in names] for names in sets]
    found: list[dict] = [defaultdict(float) for _ in sets]

    def read(columns: dict, value, *where) -> None:
        chosen = [columns[n] for n in every]
        query = select(func.grouping(*chosen), *chosen, func.sum(value)).where(*where).group_by(
            func.grouping_sets(*[tuple_(*[columns[n] for n in names]) for names in sets]))
        for flag, *key, summed in connection.execute(query).all():
            n = which[flag]
            found[n][tuple(key[k] for k in picks[n])] += summed

    m = tally_months.c
    read({n: m[n] for n in every}, m.value, _in_months(m.month, months))
    t = tallies.c
    columns = {n: _month_of(t.day, "postgresql") if n == "month" else t[n] for n in every}
    for low, high in edges:
        read(columns, t.value, t.day >= low, t.day <= high)
    return found


def daily(connection: Connection, since: date | None, until: date | None) -> list:
    """The tallies summed by day over communities and categories, for [since, until]: (day "YYYY-MM-DD",
    kind, metrics, values) tuples, one per day and kind, the metrics and their values in two lists."""
    d = tally_days.c
    where = [*([d.day >= since] if since else []), *([d.day <= until] if until else [])]
    # The day as ISO text from the database: the largest part of the answer is keyed by it, so no date objects
    # are made and formatted back, row by row. PostgreSQL sends a day's metrics of a kind as two arrays: a
    # year's 13,000 rows as 1,000, and a third less of the read.
    if connection.dialect.name == "postgresql":
        return connection.execute(select(func.to_char(d.day, "YYYY-MM-DD"), d.kind, func.array_agg(d.metric),
                                         func.array_agg(d.value)).where(*where).group_by(d.day, d.kind)).all()
    # SQLite sends them as two JSON arrays, the values written with 17 digits (its JSON functions write 15,
    # which is not always the same double).
    values = "[" + func.group_concat(func.printf("%!.17g", d.value)) + "]"
    return [(day, kind, orjson.loads(metrics), orjson.loads(values)) for day, kind, metrics, values in connection.execute(
        select(type_coerce(d.day, String), d.kind, func.json_group_array(d.metric), values).where(*where)
        .group_by(d.day, d.kind)).all()]


def medians(connection: Connection, since: date | None, until: date | None, by_month: bool = True) -> dict:
    """The median seconds per (kind, month, event), or per event alone, of the durations in [since, until],
    each rounded to its hundredth of an hour (bucket_of): the hour from the counts by hour, then the bucket
    from the counts within that hour. Reads the period's hour counts and a hundred buckets a median; the
    edge days of a partial month at either end are read summed by bucket."""
    months, edges = split(since, until)
    names = ["kind", "month", "event"] if by_month else ["event"]
    hours: dict = defaultdict(Counter)  # group → hour → count
    h = duration_hours.c
    # Running sums in SQL would sort a year's hour counts (14,000 rows at a million cases) by text keys
    # first; summing them here costs less. A month's hours of a kind and event come as two arrays in one row
    # (72 rows for a year instead of 14,000): PostgreSQL's, or SQLite's JSON.
    if by_month:
        postgres = connection.dialect.name == "postgresql"
        collect = func.array_agg if postgres else func.json_group_array
        query = select(h.kind, h.month, h.event, collect(h.hour), collect(h.count)).where(
            _in_months(h.month, months)).group_by(h.kind, h.month, h.event)
        for kind, month, event, hour_list, count_list in connection.execute(query).all():
            if not postgres:
                hour_list, count_list = orjson.loads(hour_list), orjson.loads(count_list)
            hours[(kind, month, event)] = Counter(dict(zip(hour_list, count_list)))
    else:
        query = select(h.event, h.hour, func.sum(h.count)).where(_in_months(h.month, months)).group_by(h.event, h.hour)
        for event, hour, count in connection.execute(query).all():  # at once: row by row was a fifth of a read
            hours[(event,)][hour] += count
    fine: dict = defaultdict(Counter)  # (group, hour) → bucket → count, for the edge days
    for group, bucket, count in _edge_buckets(connection, edges, by_month):
        hours[group][bucket // BUCKETS_PER_HOUR] += count
        fine[(group, bucket // BUCKETS_PER_HOUR)][bucket] += count
    wanted = {group: [at_rank(counted, rank) for rank in middle_ranks(sum(counted.values()))]
              for group, counted in hours.items()}
    looked_up = sorted({(g, hour) for g, ranks in wanted.items() for hour, _ in ranks})
    first, last = months
    ranges = []  # (index into looked_up, kind, event, first month, last month, first bucket, bucket past the hour)
    whole = (first or "0000-00", last or "9999-99")
    for n, (group, hour) in enumerate(looked_up):
        named = dict(zip(names, group))
        low, high = (named["month"], named["month"]) if by_month else whole
        if low < whole[0] or high > whole[1] or low > high:
            continue  # a partial month's: its edge days' buckets are all there is
        for kind in [named["kind"]] if by_month else KINDS:
            ranges.append((n, kind, named["event"], low, high, hour * BUCKETS_PER_HOUR, (hour + 1) * BUCKETS_PER_HOUR))
    for n, bucket, count in _buckets_within(connection, ranges, one_month=by_month):
        fine[looked_up[n]][bucket] += count
    found = {}
    for group, ranks in wanted.items():
        first_bucket, second_bucket = (at_rank(fine[(group, hour)], rank)[0] for hour, rank in ranks)
        found[group if by_month else group[0]] = bucket_median(first_bucket, second_bucket)
    return found


def _edge_buckets(connection: Connection, edges, by_month: bool):
    """(group, bucket, count) of the case durations of the edge days, summed by the database."""
    d = case_durations.c
    dialect = connection.dialect.name
    bucket = _bucket_sql(d.seconds, dialect).label("bucket")
    columns = [d.kind, _month_of(d.day, dialect).label("month"), d.event] if by_month else [d.event]
    for low, high in edges:
        counted = select(*columns, bucket).where(d.day >= low, d.day <= high).subquery()
        keys = [counted.c[c.name] for c in columns]
        for *group, found, count in connection.execute(
                select(*keys, counted.c.bucket, func.count()).group_by(*keys, counted.c.bucket)):
            yield tuple(group), found, count


# The buckets of the hours holding medians: one statement, the same whatever their number (a statement of
# OR-ed conditions cost more to build and plan than to run), joined to the list of wanted ranges. A month's
# own range is asked for by equality, so that its index (month, kind, event, bucket) is the one read.
def _buckets_sql(dialect: str, one_month: bool) -> str:
    if dialect == "postgresql":
        month = "month = w.low" if one_month else "month >= w.low AND month <= w.high"
        # LATERAL, summed within (so it is not flattened into a join, which was planned as a scan of the whole
        # table): a range at a time down an index.
        return ("SELECT w.n, b.bucket, sum(b.count) FROM unnest(CAST(:n AS int[]), CAST(:kind AS varchar[]), "
                "CAST(:event AS varchar[]), CAST(:low AS varchar[]), CAST(:high AS varchar[]), CAST(:first AS int[]), "
                "CAST(:past AS int[])) AS w(n, kind, event, low, high, first, past) CROSS JOIN LATERAL "
                f"(SELECT bucket, sum(count) AS count FROM duration_buckets WHERE {month} AND kind = w.kind "
                "AND event = w.event AND bucket >= w.first AND bucket < w.past GROUP BY bucket) AS b "
                "GROUP BY w.n, b.bucket")
    field = "json_extract(w.value, '$[{}]')".format
    month = f"b.month = {field(3)}" if one_month else f"b.month >= {field(3)} AND b.month <= {field(4)}"
    return (f"SELECT {field(0)} AS n, b.bucket, sum(b.count) FROM json_each(:ranges) AS w "
            f"JOIN duration_buckets b ON {month} AND b.kind = {field(1)} AND b.event = {field(2)} "
            f"AND b.bucket >= {field(5)} AND b.bucket < {field(6)} GROUP BY n, b.bucket")


_BUCKETS_WITHIN = {(dialect, one): text(_buckets_sql(dialect, one))
                   for dialect in ("postgresql", "sqlite") for one in (True, False)}


def _buckets_within(connection: Connection, ranges: list[tuple], one_month: bool):
    """(n, bucket, count) of the duration buckets in each range (n, kind, event, first month, last month,
    first bucket, bucket past the last), summed over the range's months (its first alone if `one_month`)."""
    if not ranges:
        return []
    dialect = connection.dialect.name
    statement = _BUCKETS_WITHIN[(dialect, one_month)]
    if dialect == "postgresql":
        names = ("n", "kind", "event", "low", "high", "first", "past")
        # Fetched at once: a year's medians are some thousands of buckets, and row by row was a seventh of a read.
        return connection.execute(statement, {name: [r[i] for r in ranges] for i, name in enumerate(names)}).all()
    return connection.execute(statement, {"ranges": json.dumps(ranges)}).all()
