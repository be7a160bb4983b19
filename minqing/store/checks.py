"""Checks of staff's work on a later patrol round (核查): what a community's volunteers are to look at, and
a volunteer's "fixed" (a record-only step) or "not fixed" (the case reopens), each counted once per round."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from minqing.domain import workflow
from minqing.store import base, cases, changes, patrol_counts
from minqing.store.tables import status_history, submissions

TO_CHECK_LIMIT = 30


def to_check(connection: Connection, community: str, *, limit: int = TO_CHECK_LIMIT) -> list[dict]:
    """The community's hazards resolved by staff and not checked since, most recently resolved first: public
    data only (receipt, category, the poster spot's code, the day it was resolved), never the report's words."""
    found = connection.execute(
        select(submissions.c.id, submissions.c.receipt, submissions.c.category, submissions.c.payload,
               submissions.c.updated_at)
        .where(submissions.c.kind == "hazard", submissions.c.community == community,
               submissions.c.status == "resolved")
        .order_by(submissions.c.updated_at.desc())
        .limit(limit * 4)).all()
    listed = []
    for case in found:
        if case.payload.get("rectified_on_site"):
            continue  # fixed on the spot by a volunteer: nothing of staff's to check
        steps = connection.execute(
            select(status_history.c.action, status_history.c.at, status_history.c.actor)
            .where(status_history.c.submission_id == case.id)
            .order_by(status_history.c.at.desc(), status_history.c.id.desc())).all()
        last_resolved = next((s for s in steps if s.action == "resolve"), None)
        if last_resolved is None or last_resolved.actor.startswith("volunteer:"):
            continue
        if any(s.action == workflow.CHECKED and s.at >= last_resolved.at for s in steps):
            continue
        listed.append({"receipt": case.receipt, "category": case.category,
                       "spot": (case.payload.get("location") or {}).get("spot") or "",
                       "resolved_at": last_resolved.at})
        if len(listed) == limit:
            break
    return listed


def record_check(connection: Connection, receipt: str, *, volunteer_id: str, team: str, round_id: str,
                 fixed: bool, note: str, photos) -> str:
    """A volunteer's check of a resolved case: "recorded", "already-checked" (this round checked it: a resend
    changes nothing), "unknown" or "not-resolved" (nothing to check: it is open or closed)."""
    found = cases.case_by_receipt(connection, receipt)
    if found is None or found.kind != "hazard":
        return "unknown"
    case = base.locked_submission(connection, found.id)
    details = {"check": "fixed" if fixed else "not_fixed", "team": team, "round": round_id}
    if _checked_in_round(connection, case.id, round_id):
        return "already-checked"
    if case.status != "resolved":
        return "not-resolved"
    actor = f"volunteer:{volunteer_id}"
    if fixed:
        changes.record_step(connection, case.id, workflow.CHECKED, actor=actor, note=note, photos=photos,
                            details=details)
    else:
        changes.transition(connection, case.id, "reopen", actor=actor, note=note, photos=photos, details=details)
    # Counted at the step's own time, as the rebuild will count it from the history.
    at = connection.execute(select(func.max(status_history.c.at)).where(
        status_history.c.submission_id == case.id)).scalar_one()
    patrol_counts.count_check(connection, case, at, details)
    return "recorded"


def _checked_in_round(connection: Connection, submission_id: str, round_id: str) -> bool:
    steps = connection.execute(select(status_history.c.details).where(
        status_history.c.submission_id == submission_id, status_history.c.details.is_not(None))).scalars()
    return any((d or {}).get("check") and d.get("round") == round_id for d in steps)


def reopened_event(round_id: str) -> str:
    """The notification event of a reopening by check: one per case and round."""
    return "rechecked-" + patrol_counts.check_event(round_id).split("-", 1)[1]


def checked_by(connection: Connection, submission_id: str) -> str:
    """The team of the latest check that reopened the case ("" if none): named in the assignees' notice."""
    steps = connection.execute(select(status_history.c.details).where(
        status_history.c.submission_id == submission_id, status_history.c.action == "reopen")
        .order_by(status_history.c.at.desc(), status_history.c.id.desc())).scalars()
    return next(((d or {}).get("team", "") for d in steps if (d or {}).get("check")), "")
