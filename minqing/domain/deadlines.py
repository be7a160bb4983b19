"""Response time limits (时限) and who is told when a case overruns them (pure; no I/O).

Defaults follow 12345 hotline practice: an urgent hazard is acknowledged within 2 hours, a consultation
request is contacted within 3 working days, anything else within 7 days. The directory's `[[sla]]`
entries come first; the most specific match wins, as with routing rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from minqing.directory import Directory, SlaLimit
from minqing.domain.routing import match_score
from minqing.domain.tallies import OFFICE_TZ, category_of, priority_of

ANY = "*"
DEFAULTS = (
    SlaLimit(kind="hazard", category=ANY, severity="urgent", amount=2, unit="hours"),
    SlaLimit(kind="consultation", category=ANY, severity=ANY, amount=3, unit="working_days"),
    SlaLimit(kind=ANY, category=ANY, severity=ANY, amount=7, unit="days"),
)


def limit_for(directory: Directory, *, kind: str, category: str, priority: str) -> SlaLimit:
    """The limit that applies to a case: the directory's most specific entry, else the defaults'."""
    for limits in (directory.sla, DEFAULTS):
        scored = [(_specificity(limit, kind, category, priority), limit) for limit in limits]
        scored = [(score, limit) for score, limit in scored if score is not None]
        if scored:
            return max(scored, key=lambda pair: pair[0])[1]
    raise AssertionError("the defaults match every case")


def due_at(start: datetime, limit: SlaLimit, *, override_seconds: float | None = None) -> datetime:
    """When a case that arrived at `start` overruns `limit`; weekends do not count as working days.

    Public holidays (and the make-up working weekends China announces each year) are not known here.
    """
    if override_seconds is not None:
        return start + timedelta(seconds=override_seconds)
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    if limit.unit == "days":
        return start + timedelta(days=limit.amount)
    local = start.astimezone(OFFICE_TZ)
    remaining = int(limit.amount)
    while remaining:
        local += timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local


def case_due_at(directory: Directory, kind: str, data: dict, submitted_at: datetime, *,
                override_seconds: float | None = None) -> datetime | None:
    """The one deadline of a case (its 时限), fixed when it is stored: the directory's limit counted from
    `submitted_at`. None for a case nobody has to act on (a team's record of a session it held)."""
    if not is_watched(kind, data):
        return None
    limit = limit_for(directory, kind=kind, category=category_of(kind, data), priority=priority_of(data) or ANY)
    return due_at(submitted_at, limit, override_seconds=override_seconds)


def is_watched(kind: str, data: dict) -> bool:
    """Whether a case waits for someone to act: a team's record of a session it held does not."""
    return not (kind == "consultation" and data.get("mode") == "report")


def escalation_target(chain: tuple[str, ...], assignees: list[str], level: int) -> str | None:
    """Who hears of the `level`-th overrun (1 = first): the next in the chain above every assignee."""
    above = max((chain.index(a) for a in assignees if a in chain), default=-1)
    position = above + level
    return chain[position] if position < len(chain) else None


def _specificity(limit: SlaLimit, kind: str, category: str, priority: str) -> int | None:
    return match_score(((4, limit.kind, kind), (2, limit.severity, priority), (1, limit.category, category)))
