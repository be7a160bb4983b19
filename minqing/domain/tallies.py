"""What a stored submission adds to the tallies: plain functions, no I/O."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

# The office counts by its own calendar day; China keeps one offset all year.
OFFICE_TZ = timezone(timedelta(hours=8))


class Increment(NamedTuple):
    """A named tuple, not a frozen dataclass: a recount makes several a case, and a frozen dataclass's
    set-up (object.__setattr__ per field) took twice as long."""
    metric: str
    kind: str
    community: str
    category: str
    day: date
    value: float


def office_day(moment: datetime) -> date:
    return moment.astimezone(OFFICE_TZ).date()


def category_of(kind: str, data: dict) -> str:
    return data["service"] if kind == "consultation" else data["category"]


def priority_of(data: dict) -> str:
    """A hazard's severity or an enterprise request's urgency; "" for a consultation."""
    return data.get("severity") or data.get("urgency") or ""


def increments_for(kind: str, data: dict, submitted_at: datetime, event: str = "received") -> list[Increment]:
    """The increments one event of one submission makes."""
    day = office_day(submitted_at)
    key = dict(kind=kind, community=data.get("community") or "", category=category_of(kind, data), day=day)
    if event != "received":
        return [Increment(metric=event, value=1, **key)]
    found = [Increment(metric="received", value=1, **key)]
    if data.get("patrol"):
        found.append(Increment(metric="patrol_findings", value=1, **key))  # 平安合伙人 排查
    if kind == "consultation" and data.get("mode") == "report":
        # A logged session is counted on the day it was held, not the day it was filed.
        held = dict(key, day=office_day(datetime.fromisoformat(data["held_at"])))
        found += [
            Increment(metric="sessions", value=1, **held),
            Increment(metric="beneficiaries", value=data["beneficiaries"], **held),
            Increment(metric="hours", value=data["hours"], **held),
        ]
    return found


def round_increments(kind: str, data: dict, submitted_at: datetime) -> list[Increment]:
    """A patrol round, counted once (keyed by the round, not the finding) on the day of its first finding."""
    return [Increment(metric="patrol_rounds", value=1, **dict(
        kind=kind, community=data.get("community") or "", category=category_of(kind, data),
        day=office_day(submitted_at)))]


def summarise(rows, daily=None) -> dict:
    """The public shape of tally rows (metric, kind, community, category, day, value).

    `daily`, if given, are rows (metric, kind, day, value) already summed by day, and `rows` may then be
    summed by month (their days are not used for `by_day`)."""
    totals: dict = {}
    by_community: dict = {}
    by_category: dict = {}
    by_day: dict = {}
    for row in rows:
        value = _number(row.value)
        _add(totals.setdefault(row.kind, {}), row.metric, value)
        if row.community:
            _add(by_community.setdefault(row.community, {}).setdefault(row.kind, {}), row.metric, value)
        _add(by_category.setdefault(row.kind, {}).setdefault(row.category, {}), row.metric, value)
        if daily is None:
            _add(by_day.setdefault(row.day.isoformat(), {}).setdefault(row.kind, {}), row.metric, value)
    for row in daily or ():
        _add(by_day.setdefault(row.day.isoformat(), {}).setdefault(row.kind, {}), row.metric, _number(row.value))
    return {
        "totals": totals,
        "by_community": by_community,
        "by_category": by_category,
        "by_day": dict(sorted(by_day.items())),
    }


def _add(bucket: dict, metric: str, value: float) -> None:
    bucket[metric] = _number(bucket.get(metric, 0) + value)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


# --- What the case workflow adds -----------------------------------------------------------------------

# Events whose time since the submission is kept, for the median time to acknowledge and to resolve.
TIMED_EVENTS = ("acknowledged", "resolved")
SATISFIED_FROM = 4  # a rating of 4 or 5 out of 5 counts as satisfied


def _key(kind: str, data: dict, at: datetime) -> dict:
    return dict(kind=kind, community=data.get("community") or "", category=category_of(kind, data),
                day=office_day(at))


def transition_increments(kind: str, data: dict, event: str, at: datetime, details: dict | None = None, *,
                          on_time: bool | None = None) -> list[Increment]:
    """The increments a case reaching `event` (a status) at `at` makes.

    `details` are what the staff member recorded (a consultation's beneficiaries and hours, an enterprise
    request's outcome); `on_time` says, for "closed", whether the case was resolved before it was due.
    """
    details = details or {}
    key = _key(kind, data, at)
    found = [Increment(metric=event, value=1, **key)]
    if event == "resolved" and kind == "consultation" and "beneficiaries" in details:
        # A requested service, now delivered, is a session held like a logged one.
        found += [
            Increment(metric="sessions", value=1, **key),
            Increment(metric="beneficiaries", value=details["beneficiaries"], **key),
            Increment(metric="hours", value=details.get("hours") or 0, **key),
        ]
    if event == "resolved" and details.get("rectified_on_site"):
        found.append(Increment(metric="rectified_on_site", value=1, **key))  # 当场整改, found and fixed
    elif event == "resolved" and data.get("patrol"):
        found.append(Increment(metric="patrol_rectified_later", value=1, **key))  # a patrol's finding, fixed by staff
    if event == "resolved" and kind == "enterprise" and details.get("outcome") == "solved":
        found.append(Increment(metric="solved", value=1, **key))
    if event == "closed" and on_time is not None:
        found.append(Increment(metric="closed_on_time" if on_time else "closed_late", value=1, **key))
    return found


def overdue_increments(kind: str, data: dict, due: datetime) -> list[Increment]:
    """A case that passed its due time open: counted once, on the day it fell due."""
    return [Increment(metric="overdue", value=1, **_key(kind, data, due))]


def feedback_increments(kind: str, data: dict, at: datetime, rating: int, fixed: bool) -> list[Increment]:
    key = _key(kind, data, at)
    found = [Increment(metric="rated", value=1, **key), Increment(metric="rating_sum", value=rating, **key)]
    if rating >= SATISFIED_FROM:
        found.append(Increment(metric="satisfied", value=1, **key))
    if fixed:
        found.append(Increment(metric="confirmed_fixed", value=1, **key))
    return found


def nudge_increments(kind: str, data: dict, at: datetime, *, first: bool = False) -> list[Increment]:
    """A resident's 催办: "nudges" counts each (one a day per case), "nudged" the cases nudged at all."""
    return [Increment(metric="nudged" if first else "nudges", value=1, **_key(kind, data, at))]


def derived(metrics: dict) -> dict:
    """Rates from one bucket of summed metrics: on-time rate, average rating, share satisfied.

    On-time rate = closed on time ÷ (closed + open and overdue); "open and overdue" is what went overdue
    and was not closed (late closures are already among the closed).
    """
    found = {}
    closed = metrics.get("closed", 0)
    open_overdue = max(0, metrics.get("overdue", 0) - metrics.get("closed_late", 0))
    if closed + open_overdue:
        found["on_time_rate"] = round(metrics.get("closed_on_time", 0) / (closed + open_overdue), 4)
    if metrics.get("received") and "nudged" in metrics:
        found["nudge_rate"] = round(metrics["nudged"] / metrics["received"], 4)
    if metrics.get("rated"):
        found["average_rating"] = round(metrics.get("rating_sum", 0) / metrics["rated"], 2)
        found["satisfied_share"] = round(metrics.get("satisfied", 0) / metrics["rated"], 4)
    return found


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


# Durations are counted by the hundredth of an hour, the precision the answer shows (median hours to two
# decimals): a median is then the middle bucket (or the mean of the middle two), read from counts by bucket,
# and equals `median` of the durations each rounded to its bucket first.
BUCKET_SECONDS = 36
BUCKETS_PER_HOUR = 100


def bucket_of(seconds: float) -> int:
    """The hundredth of an hour nearest `seconds`; a negative duration (a skewed clock) counts as 0. The
    same arithmetic as the SQL that fills the rollups (floor(x / 36 + 0.5)), so both give the same bucket."""
    return int(max(seconds, 0.0) / BUCKET_SECONDS + 0.5)


def middle_ranks(total: int) -> tuple[int, int]:
    """The 1-based ranks whose mean is the median of `total` values (the same rank twice when odd)."""
    return (total + 1) // 2, (total + 2) // 2


def at_rank(counts: dict, rank: int) -> tuple:
    """The key holding the `rank`-th value (1-based) of counts by sorted key, and the rank within that key."""
    passed = 0
    for key in sorted(counts):
        if passed + counts[key] >= rank:
            return key, rank - passed
        passed += counts[key]
    raise ValueError(f"rank {rank} beyond {passed} values")


def bucket_median(first: int, second: int) -> float:
    """The median in seconds of the middle buckets, as `median` gives it for durations rounded to buckets."""
    return (first * BUCKET_SECONDS + second * BUCKET_SECONDS) / 2


@functools.lru_cache(maxsize=8192)  # a recount asks for each day's month thousands of times; strftime is slow
def month_of(day: date) -> str:
    return day.strftime("%Y-%m")


def summarise_months(rows, durations=(), *, medians: dict | None = None) -> dict:
    """Tally rows and duration rows as kind → month → metrics, with rates and median hours added.

    `medians` ((kind, "YYYY-MM", event) → seconds), if given, stand for the duration rows' medians."""
    months: dict = {}
    for row in rows:
        _add(months.setdefault(row.kind, {}).setdefault(month_of(row.day), {}), row.metric, _number(row.value))
    if medians is None:
        timed: dict = {}
        for row in durations:
            timed.setdefault((row.kind, month_of(row.day), row.event), []).append(row.seconds)
        medians = {key: median(seconds) for key, seconds in timed.items()}
    for (kind, month, event), seconds in medians.items():
        bucket = months.setdefault(kind, {}).setdefault(month, {})
        bucket[f"median_hours_to_{'acknowledge' if event == 'acknowledged' else 'resolve'}"] = round(
            seconds / 3600, 2)
    for by_month in months.values():
        for month, metrics in by_month.items():
            metrics.update(derived(metrics))
        by_month_sorted = dict(sorted(by_month.items()))
        by_month.clear()
        by_month.update(by_month_sorted)
    return months
