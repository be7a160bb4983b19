"""What one case's stored records (the case, its status history, its feedback) add to the tallies, replayed
as the live path counted them (minqing.store.counts): each event once, in the order it happened. Pure, so a
recount can replay cases a batch at a time without a query per event."""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

from minqing.domain import workflow
from minqing.domain.tallies import (
    TIMED_EVENTS,
    Increment,
    feedback_increments,
    increments_for,
    nudge_increments,
    office_day,
    overdue_increments,
    transition_increments,
)


class Counted(NamedTuple):
    """One counted event: its `tally_events` key, its increments and, for a timed event, its duration row."""
    event: str
    at: datetime
    increments: list[Increment]
    duration: dict | None = None


def replay(case, history, given, now: datetime) -> list[Counted]:
    """The events of `case` (a submissions row) from `history` (its status_history rows, in order of (at,
    id)) and `given` (its feedback row or None), as of `now` (for an open case past its due time)."""
    found: dict[str, Counted] = {}

    def count(event: str, at: datetime, increments: list[Increment], duration: dict | None = None) -> bool:
        if event in found:
            return False
        found[event] = Counted(event, at, increments, duration)
        return True

    count("received", case.submitted_at, increments_for(case.kind, case.payload, case.submitted_at))
    due = case.due_at
    resolutions: list[datetime] = []
    for step in history:
        if step.status == "resolved":  # as counts._first_resolved reads it: notes on a resolved case too
            resolutions.append(step.at)
        if step.action == workflow.NUDGE:
            # As counts.count_nudge: once per case and office day, and the case's first one once more.
            if count(f"nudge-{office_day(step.at).isoformat()}", step.at,
                     nudge_increments(case.kind, case.payload, step.at)):
                count("nudged", step.at, nudge_increments(case.kind, case.payload, step.at, first=True))
            continue
        if step.action in (*workflow.NOT_COUNTED, workflow.CHECKED) or (step.action is None and step.status == "received"):
            continue
        event, at = step.status, step.at
        on_time = None
        if event == "closed":
            resolved_at = min((t for t in resolutions if t <= at), default=None)
            on_time = resolved_at is not None and (due is None or resolved_at <= due)
        duration = None
        if event in TIMED_EVENTS:
            duration = dict(submission_id=case.id, event=event, kind=case.kind, community=case.community or "",
                            category=case.category, day=office_day(at),
                            seconds=(at - case.submitted_at).total_seconds())
        count(event, at, transition_increments(case.kind, case.payload, event, at, step.details, on_time=on_time),
              duration)
        if event == "resolved" and due is not None and at > due:
            count("overdue", at, overdue_increments(case.kind, case.payload, due))
    if given is not None:
        count("feedback", given.at, feedback_increments(case.kind, case.payload, given.at, given.rating,
                                                        bool(given.fixed)))
    if case.status in workflow.OPEN_STATUSES and due is not None and due < now:
        count("overdue", now, overdue_increments(case.kind, case.payload, due))
    return list(found.values())


def within(day: date, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)
