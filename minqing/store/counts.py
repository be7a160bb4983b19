"""Counting the case workflow in the tallies: transitions, overdue cases and residents' feedback.

Each event is counted once per (case, event), guarded by the same `tally_events` key as "received", and
in the caller's transaction. The recount replays the stored history through the same functions, so a
rebuild gives the numbers the live path gave.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from minqing.domain.tallies import (
    _number,
    TIMED_EVENTS,
    Increment,
    derived,
    feedback_increments,
    increments_for,
    nudge_increments,
    office_day,
    overdue_increments,
    round_increments,
    summarise_months,
    transition_increments,
)
from minqing.store import base, cases, patrol_counts, rollups
from minqing.store.base import insert_ignoring_known, now
from minqing.store.tables import (
    case_durations,
    status_history,
    submissions,
    tallies,
    tally_events,
)


def count_transition(connection: Connection, case, event: str, at: datetime, details: dict | None) -> None:
    """Count `case` (a submissions row) reaching `event` at `at`."""
    due = case.due_at
    on_time = None
    if event == "closed":
        # A case with no deadline (a logged session) cannot be late.
        resolved_at = _first_resolved(connection, case.id, at)
        on_time = resolved_at is not None and (due is None or resolved_at <= due)
    counted = apply_increments(
        connection, case.id, event,
        transition_increments(case.kind, case.payload, event, at, details, on_time=on_time))
    if counted:
        patrol_counts.count_resolution(connection, case, event, at, details)
    if counted and event in TIMED_EVENTS:
        duration = dict(submission_id=case.id, event=event, kind=case.kind, community=case.community or "",
                        category=case.category, day=office_day(at), seconds=(at - case.submitted_at).total_seconds())
        if base.insert_ignoring_known(connection, case_durations, duration):
            rollups.add(connection, {}, [duration])
    if event == "resolved" and due is not None and at > due:
        count_overdue(connection, case)


def count_submission(connection: Connection, row) -> None:
    """Count a stored submission: received (and a patrol's finding), and the patrol round it opened."""
    if apply_increments(connection, row.id, "received", increments_for(row.kind, row.payload, row.submitted_at)):
        patrol_counts.count_finding(connection, row)
    patrol_round = (row.payload.get("patrol") or {}).get("round")
    if patrol_round and apply_increments(connection, patrol_round, "patrol-round",
                                         round_increments(row.kind, row.payload, row.submitted_at)):
        patrol_counts.count_round(connection, row)


def count_overdue(connection: Connection, case) -> bool:
    return apply_increments(connection, case.id, "overdue",
                                    overdue_increments(case.kind, case.payload, case.due_at))


def count_feedback(connection: Connection, case, at: datetime, rating: int, fixed: bool) -> bool:
    return apply_increments(
        connection, case.id, "feedback", feedback_increments(case.kind, case.payload, at, rating, fixed))


def count_nudge(connection: Connection, case, at: datetime) -> bool:
    """Count a 催办 once per case and office day ("nudges"), and the case's first one ("nudged"); False when
    the case was nudged that day already."""
    day = office_day(at).isoformat()
    if not apply_increments(connection, case.id, f"nudge-{day}", nudge_increments(case.kind, case.payload, at)):
        return False
    apply_increments(connection, case.id, "nudged", nudge_increments(case.kind, case.payload, at, first=True))
    return True


def count_overdue_cases(connection: Connection, at: datetime) -> int:
    """Count every open case past its due time that is not counted yet; returns how many were added."""
    found = connection.execute(select(submissions).where(cases.overdue_clause(at))).all()
    return sum(count_overdue(connection, case) for case in found)


def _first_resolved(connection: Connection, submission_id: str, before: datetime) -> datetime | None:
    return connection.execute(
        select(func.min(status_history.c.at)).where(
            status_history.c.submission_id == submission_id,
            status_history.c.status == "resolved",
            status_history.c.at <= before,
        )
    ).scalar_one_or_none()


def duration_rows(connection: Connection, *, since=None, until=None):
    query = select(case_durations)
    if since:
        query = query.where(case_durations.c.day >= since)
    if until:
        query = query.where(case_durations.c.day <= until)
    return connection.execute(query).all()




def apply_increments(connection: Connection, submission_id: str, event: str, increments: list[Increment]) -> bool:
    """Count an event of a submission once; True if this call counted it."""
    if not insert_ignoring_known(connection, tally_events, dict(submission_id=submission_id, event=event, at=now())):
        return False
    sums: dict = defaultdict(float)
    for i in increments:
        sums[(i.metric, i.kind, i.community, i.category, i.day)] += i.value
    if sums:
        # One statement per table, rows in key order (see rollups.add): the tallies, then their rollups.
        connection.execute(base.adding_to(connection.dialect.name, tallies), [
            dict(metric=m, kind=k, community=c, category=g, day=d, value=v) for (m, k, c, g, d), v in sorted(sums.items())])
        rollups.add(connection, sums, [])
    return True


def tally_rows(connection: Connection, *, since: date | None = None, until: date | None = None):
    query = select(tallies)
    if since:
        query = query.where(tallies.c.day >= since)
    if until:
        query = query.where(tallies.c.day <= until)
    return connection.execute(query.order_by(tallies.c.day)).all()


# --- Reading the tallies for a period, from their rollups (minqing/store/rollups.py) ----------------------
# What is read is bounded by the period asked for and the directory, never by the number of cases stored.


def median_seconds(connection: Connection, *, since: date | None = None, until: date | None = None,
                   by_month: bool = True) -> dict:
    """The median seconds per (kind, month, event), or per event alone, of the durations in [since, until],
    each rounded to the hundredth of an hour the answer shows (rollups.medians)."""
    return rollups.medians(connection, since, until, by_month)


def last_change(connection: Connection) -> datetime | None:
    """When a tally last changed: every increment goes with a `tally_events` row (one index lookup)."""
    return connection.execute(select(func.max(tally_events.c.at))).scalar()


def summary(connection: Connection, *, since: date | None = None, until: date | None = None,
            alongside: Engine | None = None) -> dict:
    """The public tallies for a period (`summarise` + rates + `summarise_months`), as the API answers.

    Summed over the rollups (whole months, and the days of a partial month at either end) by (metric, kind,
    community, category), from which totals and both breakdowns are added up here, and by (kind, month,
    metric), both in one read on PostgreSQL; so what is read is the size of the answer (the directory's communities and
    categories, the period's days and months), never the number of cases.

    `alongside`, if given, is the engine on which the medians are read in a thread of their own, while this
    one sums the rest: for a reader that holds no uncommitted writes."""
    later = base.read_alongside(alongside, median_seconds, since=since, until=until) if alongside else None

    def numbers(sums: dict) -> dict:
        found: dict = {}
        for (*path, metric), value in sums.items():
            bucket = found
            for name in path:
                bucket = bucket.setdefault(name, {})
            bucket[metric] = _number(value)
        return found

    totals: dict = defaultdict(float)
    communities: dict = defaultdict(float)
    categories: dict = defaultdict(float)
    detailed, monthly = rollups.grouped_sets(
        connection, [("metric", "kind", "community", "category"), ("kind", "month", "metric")], since, until)
    for (metric, kind, community, category), value in detailed.items():
        totals[(kind, metric)] += value
        if community:
            communities[(community, kind, metric)] += value
        categories[(kind, category, metric)] += value
    by_day: dict = {}
    # The largest part of the answer (a number per day, kind and metric): built from plain tuples.
    for day, kind, metrics, values in rollups.daily(connection, since, until):
        by_day.setdefault(day, {})[kind] = {metric: _number(value) for metric, value in zip(metrics, values)}
    found = {
        "totals": numbers(totals),
        "by_community": numbers(communities),
        "by_category": numbers(categories),
        "by_day": {day: by_day[day] for day in sorted(by_day)},
    }
    found["rates"] = {kind: derived(metrics) for kind, metrics in found["totals"].items()}
    months = [SimpleNamespace(kind=kind, metric=metric, day=date.fromisoformat(month + "-01"), value=value)
              for (kind, month, metric), value in monthly.items()]
    medians = later.result() if later else median_seconds(connection, since=since, until=until)
    found["by_month"] = summarise_months(months, medians=medians)
    return found


def outcome_rows(connection: Connection, wanted, *, since: date | None = None, until: date | None = None) -> list:
    """Tally rows for `outcomes`: the `wanted` (kind, metric) pairs by community, category and month, every
    other metric summed by kind alone (it only feeds the rates): bounded by the directory, not the cases."""
    names = [f"{kind}:{metric}" for kind, metric in wanted]

    def pair(columns):
        return func.coalesce(columns.kind, "") + ":" + columns.metric

    detailed = rollups.grouped(connection, ["metric", "kind", "community", "category", "month"], since, until,
                               where=lambda c: pair(c).in_(names))
    rest = rollups.grouped(connection, ["metric", "kind"], since, until, where=lambda c: pair(c).not_in(names))
    found = [SimpleNamespace(metric=r.metric, kind=r.kind, community=r.community, category=r.category,
                             day=date.fromisoformat(r.month + "-01"), value=r.value) for r in detailed]
    first = since or date(2000, 1, 1)
    found += [SimpleNamespace(metric=r.metric, kind=r.kind, community="", category="", day=first, value=r.value)
              for r in rest]
    return found


def rebuild_tallies(connection: Connection, since: date | None = None, until: date | None = None,
                    progress=None) -> int:
    """Recount the tallies of the days [since, until] (everything when both are None) from the stored
    submissions, their history and feedback, in the caller's transaction; returns how many cases were
    replayed. `minqing tallies --rebuild` calls it once a month, each month its own transaction."""
    from minqing.store import recount

    replayed = recount.rebuild_period(connection, since, until, progress)
    if since is None and until is None:
        # Everything was recounted into emptied tables: the rollups made afresh from them, set-based (a
        # period's are settled from its sums by rebuild_period), in the same transaction.
        rollups.refresh(connection)
    return replayed
