"""The case workflow: one state machine for every kind of submission (pure; no I/O).

received → acknowledged → in_progress → resolved → closed, plus rejected and reopened.
"""

from __future__ import annotations

from dataclasses import dataclass

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
