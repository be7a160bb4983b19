"""Acting on a case through a one-tap link: once per link, through the shared case workflow, and only
while the link's staff member still answers for the case."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from minqing.store import base, cases, changes, outbox, tokens
from minqing.store.tables import outbox as notifications

NOTE = "一键处理 (one-tap link)"


class LinkUsed(Exception):
    pass


class LinkWithdrawn(Exception):
    """The link's staff member no longer answers for the case. `reason`: "departed" (not in the directory),
    "revoked" (an administrator revoked their tokens) or "reassigned" (the case is no longer theirs)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def withdrawn(connection: Connection, grant, directory) -> str | None:
    """Why the link may no longer act (a LinkWithdrawn reason), or None while it may."""
    if grant.staff_id not in directory.staff:
        return "departed"
    if tokens.staff_revoked(connection, grant.staff_id):
        return "revoked"
    if not answers_for(connection, grant.submission_id, grant.staff_id):
        return "reassigned"
    return None


def answers_for(connection: Connection, submission_id: str, staff_id: str) -> bool:
    """A current assignee; or someone the case was escalated to; or a fallback contact told on behalf of
    a current assignee (the two kinds of notice, besides an assignee's own, that carry links)."""
    current = cases.assignees(connection, submission_id)
    if staff_id in current:
        return True
    told = connection.execute(select(notifications.c.event, notifications.c.on_behalf_of).where(
        notifications.c.submission_id == submission_id, notifications.c.recipient == staff_id)).all()
    return any(row.event.startswith("escalated-") or row.on_behalf_of in current for row in told)


def act_by_link(connection: Connection, grant, directory):
    """Apply the link's action as its staff member, recording it in the case history (and the tallies),
    with the group it came through if it was posted to one.

    Raises LinkWithdrawn, LinkUsed, IllegalTransition or LookupError; in each case the transaction changes
    nothing.
    """
    base.locked_submission(connection, grant.submission_id)  # a reassignment under way finishes first
    reason = withdrawn(connection, grant, directory)
    if reason:
        raise LinkWithdrawn(reason)
    if not outbox.use_link(connection, grant):
        raise LinkUsed(grant.digest)
    note, details = (f"{NOTE}; via {grant.via}", {"via": grant.via}) if grant.via else (NOTE, None)
    return changes.transition(connection, grant.submission_id, grant.action, actor=grant.staff_id, note=note,
                              details=details)
