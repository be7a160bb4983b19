"""What a stored submission adds to the tallies: plain functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

# The office counts by its own calendar day; China keeps one offset all year.
OFFICE_TZ = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Increment:
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


def increments_for(kind: str, data: dict, submitted_at: datetime, event: str = "received") -> list[Increment]:
    """The increments one event of one submission makes."""
    day = office_day(submitted_at)
    key = dict(kind=kind, community=data.get("community") or "", category=category_of(kind, data), day=day)
    if event != "received":
        return [Increment(metric=event, value=1, **key)]
    found = [Increment(metric="received", value=1, **key)]
    if kind == "consultation" and data.get("mode") == "report":
        # A logged session is counted on the day it was held, not the day it was filed.
        held = dict(key, day=office_day(datetime.fromisoformat(data["held_at"])))
        found += [
            Increment(metric="sessions", value=1, **held),
            Increment(metric="beneficiaries", value=data["beneficiaries"], **held),
            Increment(metric="hours", value=data["hours"], **held),
        ]
    return found


def summarise(rows) -> dict:
    """The public shape of tally rows (metric, kind, community, category, day, value)."""
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
        _add(by_day.setdefault(row.day.isoformat(), {}).setdefault(row.kind, {}), row.metric, value)
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
