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
    step: int | None = None  # the history row that recorded it, once recorded


def apply(status: str, action: str) -> Transition:
    """The transition `action` makes from `status`, or IllegalTransition naming the allowed ones."""
    if action not in ACTIONS or action not in ALLOWED.get(status, ()):
        raise IllegalTransition(status, action)
    return Transition(action=action, before=status, after=ACTIONS[action])


# Steps staff record without moving the case: they go to the history with the status unchanged.
# "publish" (公开) lets the resident's own words and chosen photos appear on the public problem list.
RECORD_ONLY = ("note", "assign", "publish")
# Steps others record, also without moving the case: a resident's 催办 (nudge) of an overdue case, and an
# update a resident sent through another site (Open311 servicerequestupdates).
NUDGE, RESIDENT_UPDATE = "nudge", "update"
NOT_COUNTED = (*RECORD_ONLY, NUDGE, RESIDENT_UPDATE)

def record_only_for(kind: str, mode: str | None = None) -> tuple[str, ...]:
    """The record-only steps a case of `kind` takes: only what may be public (a hazard, a session held) can
    be published."""
    public = kind == "hazard" or (kind == "consultation" and mode == "report")
    return tuple(a for a in RECORD_ONLY if a != "publish" or public)


# The statuses the reporter is told of, if they asked to be (and gave a phone or e-mail).
REPORTER_TOLD_OF = ("acknowledged", "resolved", "rejected")


def wants_updates(payload: dict) -> bool:
    """Whether the reporter asked to be told (and is not anonymous)."""
    contact = payload.get("contact") or {}
    return bool(contact.get("notify")) and not contact.get("anonymous") and bool(
        contact.get("email") or contact.get("phone"))


def may_nudge(status: str, due_at: datetime | None, at: datetime) -> bool:
    """催办 is for a case still open past its deadline."""
    return is_overdue(status, due_at, at)

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
