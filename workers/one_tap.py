"""Acting on a case through a one-tap link: once per link, through the shared case workflow."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from workers import outbox, queries

NOTE = "一键处理 (one-tap link)"


class LinkUsed(Exception):
    pass


def act_by_link(connection: Connection, grant):
    """Apply the link's action as its staff member, recording it in the case history (and the tallies).

    Raises LinkUsed, IllegalTransition or LookupError; in each case the transaction changes nothing.
    """
    if not outbox.use_link(connection, grant):
        raise LinkUsed(grant.digest)
    return queries.transition(connection, grant.submission_id, grant.action, actor=grant.staff_id, note=NOTE)
