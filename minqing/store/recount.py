"""`minqing tallies --rebuild`: the tallies recounted from the stored records, a batch of cases at a time
(bounded memory: never the whole history at once), period by period, each period in one short
transaction, so the live tallies keep being served (the old numbers until the period's commit) and live
counting waits only while a period is recounted.

A period [since, until] of office days gets back exactly the increments whose day falls in it: from the
cases received in it, those with an event, a feedback or a due time in it, and consultations whose session
may have been held in it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import String, delete, func, literal_column, select, union
from sqlalchemy.engine import Connection

from minqing.domain.replay import replay, within
from minqing.domain.tallies import office_day, round_increments
from minqing.store import patrol_counts, rollups, settle
from minqing.store.base import insert_all_ignoring_known, now
from minqing.store.cases import _office_midnight
from minqing.store.tables import case_durations, feedback, status_history, submissions, tallies, tally_events

BATCH = 5000
FLUSH = 50000


def held_at(dialect: str):
    """A logged session's held_at (ISO text), written as its index is (migration 0016: the key a literal),
    so that a month's sessions are found through it, not by reading every consultation's form each month."""
    if dialect == "postgresql":
        return literal_column("(submissions.payload ->> 'held_at')", String)
    return literal_column("json_extract(submissions.payload, '$.held_at')", String)


def candidates(since: date | None, until: date | None, dialect: str):
    """The ids of the cases that may add to the days [since, until] (all cases when both are None)."""
    if since is None and until is None:
        return select(submissions.c.id)
    first, last = since or date(1900, 1, 2), until or date(8999, 1, 1)
    start, end = _office_midnight(first), _office_midnight(last) + timedelta(days=1)
    held = held_at(dialect)
    return union(
        select(submissions.c.id).where(submissions.c.submitted_at >= start, submissions.c.submitted_at < end),
        select(submissions.c.id).where(submissions.c.due_at >= start, submissions.c.due_at < end),
        # A logged session is counted on the day it was held, which may be long before or after the day it
        # was filed: its held_at (ISO text) within a day either side of the period, whatever its offset. Only
        # a logged session's form has one (schemas/consultation.py), so no test of the kind, which SQLite
        # would otherwise take as the index to read.
        select(submissions.c.id).where(
            held >= (first - timedelta(days=1)).isoformat(), held < (last + timedelta(days=2)).isoformat()),
        select(status_history.c.submission_id).where(status_history.c.at >= start, status_history.c.at < end),
        select(feedback.c.submission_id).where(feedback.c.at >= start, feedback.c.at < end),
    )


def rebuild_period(connection: Connection, since: date | None = None, until: date | None = None,
                   progress=None) -> int:
    """Recount the tallies and case durations of the days [since, until] (everything when both are None)
    in the caller's transaction; returns how many cases were replayed. `progress(n)` is told each batch."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Live counting (which always adds a tally_events row first) waits for this period's commit, so no
        # event is counted by both or by neither; readers go on reading the committed numbers.
        connection.exec_driver_sql("LOCK TABLE tally_events IN SHARE ROW EXCLUSIVE MODE")
    at = now()
    whole = since is None and until is None
    if whole:
        for table in (tallies, case_durations, tally_events):
            connection.execute(delete(table))
    # 平安合伙人's own table, by month: its months of the period recounted whole.
    patrol_counts.recount(connection, since, until)
    # A period's ids are few enough to read at once (and a server-side cursor's fast-start plan is slower);
    # the whole history's are streamed. Options on the statement alone: Connection.execution_options would
    # stream every later statement too.
    ids = connection.execute(candidates(since, until, dialect),
                             execution_options={"stream_results": True, "yield_per": 2000} if whole else {})
    count = 0
    # A period's sums and durations are kept until its end and then compared with the stored rows, so only
    # what differs is written: they grow with the period's days and the tallies' keys, not with its cases.
    # The whole history's are added to the emptied tables whenever they hold FLUSH rows.
    sums: dict = defaultdict(float)
    durations: dict = {}
    # SQLite's rows cost more memory each: 5,000 of them took the peak from 123 to 171 MB (100,000 cases).
    for partition in ids.partitions(BATCH if dialect == "postgresql" else 2000):
        batch = [row[0] for row in partition]
        guards: list = []
        count += _recount(connection, batch, since, until, at, sums, guards, durations)
        settle.add_guards(connection, batch, guards, at, known=not whole)
        if whole and (len(sums) >= FLUSH or len(durations) >= FLUSH):
            settle.add_tallies(connection, sums)
            settle.add_durations(connection, durations)
            sums.clear()
            durations.clear()
        if progress:
            progress(len(batch))
    _count_rounds(connection, since, until, at, sums)
    if whole:
        settle.add_tallies(connection, sums)
        settle.add_durations(connection, durations)
    else:
        settle.settle_tallies(connection, sums, since, until)
        settle.settle_durations(connection, durations, since, until)
        rollups.settle(connection, sums, durations, since, until)
    return count


# The columns a replay reads: not the search text, photos or notes.
_CASE_COLUMNS = [submissions.c[name] for name in (
    "id", "kind", "community", "category", "status", "payload", "submitted_at", "due_at")]
_STEP_COLUMNS = [status_history.c[name] for name in ("submission_id", "status", "action", "at", "details")]
_GIVEN_COLUMNS = [feedback.c[name] for name in ("submission_id", "rating", "fixed", "at")]


def _recount(connection: Connection, ids: list[str], since, until, at: datetime, sums: dict, guards: list,
             durations: dict) -> int:
    found = connection.execute(select(*_CASE_COLUMNS).where(settle.among(connection, submissions.c.id, ids))).all()
    history = defaultdict(list)
    for step in connection.execute(select(*_STEP_COLUMNS).where(
            settle.among(connection, status_history.c.submission_id, ids))
                                   .order_by(status_history.c.at, status_history.c.id)).all():
        history[step.submission_id].append(step)  # .all(): a result iterated is fetched row by row
    given = {row.submission_id: row for row in connection.execute(select(*_GIVEN_COLUMNS).where(
        settle.among(connection, feedback.c.submission_id, ids))).all()}
    for case in found:
        for counted in replay(case, history[case.id], given.get(case.id), at):
            kept = [i for i in counted.increments if within(i.day, since, until)]
            for i in kept:
                sums[i[:5]] += i.value  # (metric, kind, community, category, day): the tally's key
            if kept or within(office_day(counted.at), since, until):
                guards.append((case.id, counted.event))
            duration = counted.duration
            if duration and within(duration["day"], since, until):
                durations[(case.id, counted.event)] = (duration["kind"], duration["community"], duration["category"],
                                                       duration["day"], duration["seconds"])
    return len(found)


def _count_rounds(connection: Connection, since, until, at: datetime, sums: dict) -> None:
    """Patrol rounds, counted as live: once per round (its tally_events key is the round, not a case), on the
    day of its first finding. A period counts the rounds whose first finding it holds: read apart from the
    batches of cases, since a round's findings may lie in several batches and on both sides of the period's
    edges. Their keys from before are dropped first, since the period's tallies were."""
    start = _office_midnight(since) if since else None
    end = _office_midnight(until) + timedelta(days=1) if until else None
    held = patrol_counts.patrol_round(connection.dialect.name)
    findings = connection.execute(
        select(held.label("round"), submissions.c.kind, submissions.c.payload, submissions.c.submitted_at)
        .where(held.isnot(None), *patrol_counts.during(submissions.c.submitted_at, start, end))
        .order_by(submissions.c.submitted_at, submissions.c.id),
        execution_options={"stream_results": True, "yield_per": 2000})
    first: dict = {}
    for row in findings:
        first.setdefault(row.round, row)
    if start is not None:
        for earlier in patrol_counts.rounds_before(connection, list(first), start):
            del first[earlier]
    rounds = list(first)
    for part in (rounds[n:n + BATCH] for n in range(0, len(rounds), BATCH)):
        if since is not None or until is not None:
            connection.execute(delete(tally_events).where(tally_events.c.event == "patrol-round",
                                                          tally_events.c.submission_id.in_(part)))
        insert_all_ignoring_known(connection, tally_events, [
            dict(submission_id=r, event="patrol-round", at=at) for r in part])
    for row in first.values():
        for i in round_increments(row.kind, row.payload, row.submitted_at):
            sums[i[:5]] += i.value


def periods(connection: Connection, since: date | None, until: date | None) -> list[tuple[date, date]]:
    """Month by month from `since` (default: a month before the first case) to `until` (default: today)."""
    if since is None:
        first = connection.execute(select(func.min(submissions.c.submitted_at))).scalar()
        since = (office_day(first) if first else office_day(now())) - timedelta(days=31)
    until = until or office_day(now())
    found, start = [], since
    while start <= until:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        found.append((start, min(until, following - timedelta(days=1))))
        start = following
    return found
