"""The case workflow: one state machine for every kind of submission (pure; no I/O).

received → acknowledged → in_progress → resolved → closed, plus rejected and reopened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("received", "acknowledged", "in_progress", "resolved", "closed", "rejected", "reopened")
OPEN_STATUSES = frozenset({"received", "acknowledged", "in_progress", "reopened"})

# action → status it leads to
ACTIONS = {
    "acknowledge": "acknowledged",
    "start": "in_progress",
    "resolve": "resolved",
    "close": "closed",
    "reject": "rejected",
    "reopen": "reopened",
}

# status → actions allowed from it
ALLOWED = {
    "received": ("acknowledge", "start", "resolve", "reject"),
    "acknowledged": ("start", "resolve", "reject"),
    "in_progress": ("resolve", "reject"),
    "reopened": ("acknowledge", "start", "resolve", "reject"),
    "resolved": ("close", "reopen"),
    "closed": ("reopen",),
    "rejected": ("reopen",),
}

REJECT_REASONS = ("duplicate", "not_our_responsibility", "invalid")


class IllegalTransition(Exception):
    def __init__(self, status: str, action: str):
        super().__init__(f"cannot {action} a case that is {status}")
        self.status, self.action = status, action
        self.allowed = ALLOWED.get(status, ())


@dataclass(frozen=True)
class Transition:
    action: str
    before: str
    after: str


def apply(status: str, action: str) -> Transition:
    """The transition `action` makes from `status`, or IllegalTransition naming the allowed ones."""
    if action not in ACTIONS or action not in ALLOWED.get(status, ()):
        raise IllegalTransition(status, action)
    return Transition(action=action, before=status, after=ACTIONS[action])


# Steps staff record without moving the case: they go to the history with the status unchanged.
RECORD_ONLY = ("note", "assign")

# A volunteer's check (核查) that found the work done: recorded by the check endpoint, not by staff.
CHECKED = "check"

# What an enterprise request came to (企业诉求办结情况); "solved" counts towards "problems solved".
ENTERPRISE_OUTCOMES = ("solved", "partly_solved", "not_solved", "referred")


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def is_overdue(status: str, due_at: datetime | None, at: datetime) -> bool:
    """Open past its deadline (the directory's SLA, fixed when the case was stored); a case with no
    deadline, such as a team's record of a session it held, is never overdue."""
    return is_open(status) and due_at is not None and due_at < at
