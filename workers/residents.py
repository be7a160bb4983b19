"""What residents get and set off: the reporter's updates (SMS or e-mail), the reminder to rate a resolved
case, and a resident's 催办 (nudge) of an overdue case. Each notice is one outbox row, sent once."""

from __future__ import annotations

import logging

from sqlalchemy import select

from minqing.domain.deadlines import escalation_target
from minqing.store import cases
from minqing.store.tables import status_history
from workers import notifications
from workers.compose import outbox_rows, reporter_recipient, reporter_row
from workers.registry import actor, runtime
from workers.templates import note

log = logging.getLogger("minqing.residents")


def _step(connection, submission_id: str, step_id: int):
    step = connection.execute(select(status_history).where(
        status_history.c.id == step_id, status_history.c.submission_id == submission_id)).one_or_none()
    if step is None:
        # The staff action's transaction has not committed yet: the retry will see it.
        raise LookupError(f"no step {step_id} of case {submission_id}")
    return step


@actor
def tell_reporter(submission_id: str, step_id: int) -> None:
    """Tell the reporter of one step (acknowledged, resolved, rejected), if they asked to be told."""
    rt = runtime()
    with rt.engine.begin() as connection:
        row = cases.submission(connection, submission_id)
        if row is None:
            raise LookupError(f"no submission {submission_id}")
        step = _step(connection, submission_id, step_id)
        reporter = reporter_recipient(row.payload, rt.settings)
        if not reporter.channels:
            return  # no opt-in, anonymous, or no channel configured for what they gave
        reply = (step.details or {}).get("reply") or ""
        outgoing = notifications.add(connection, [reporter_row(
            row, f"reporter-{step_id}", step.status, reporter.channels[0].type, reply=reply)])
    notifications.send(outgoing)


@actor
def remind_reporter(submission_id: str) -> None:
    """The one reminder to rate a resolved case nobody rated (queued by `minqing cases sweep`)."""
    rt = runtime()
    with rt.engine.begin() as connection:
        row = cases.submission(connection, submission_id)
        reporter = reporter_recipient(row.payload, rt.settings) if row is not None else None
        if reporter is None or not reporter.channels or row.status != "resolved" or \
                cases.feedback_of(connection, submission_id) is not None:
            return
        outgoing = notifications.add(connection, [reporter_row(
            row, "reporter-reminder", "resolved", reporter.channels[0].type, reminder=True)])
    notifications.send(outgoing)


@actor
def nudge_assignees(submission_id: str, step_id: int) -> None:
    """A resident's 催办: the assignees and the next person in the community's chain are told, once per
    nudge (the step)."""
    rt = runtime()
    directory = rt.directory
    with rt.engine.begin() as connection:
        row = cases.submission(connection, submission_id)
        if row is None:
            raise LookupError(f"no submission {submission_id}")
        _step(connection, submission_id, step_id)
        staff_ids = [s for s in cases.assignees(connection, submission_id) if s in directory.staff]
        community = directory.communities.get(row.community)
        chain = (community.chain if community else ()) or directory.street.fallback
        above = escalation_target(chain, staff_ids, 1)
        told = list(dict.fromkeys([*staff_ids, *([above] if above else [])]))
        why = note("nudged", names=[], lang=rt.lang)
        outgoing = notifications.add(connection, outbox_rows(
            directory, row, f"nudged-{step_id}", told, set(rt.channels), lang=rt.lang, note=why))
    notifications.send(outgoing)
