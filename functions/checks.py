"""核查: a patrol volunteer checks, on a later round, a hazard staff resolved; "not fixed" reopens it.

POST /api/v1/checks/<receipt> takes JSON, a form, or a form with the photo (a browser without JavaScript,
which gets the patrol form back, saying what was recorded). A resend from the phone's outbox is answered
as the first post was, and changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, jsonify, redirect, request
from marshmallow import ValidationError

from functions.intake import parse_body, wants_page
from functions.problems import Problem, pick_lang
from functions.services import services
from schemas import errors_by_path
from workers.brokers import NOTIFY_ASSIGNEES

blueprint = Blueprint("checks", __name__)

REFUSED = {
    "unknown": (404, "case-not-found", ("没有这个回执码的隐患。", "No hazard has this receipt.")),
    "not-resolved": (409, "not-awaiting-check", ("该事项当前不是已办结状态，无需核查。",
                                                 "The case is not resolved now: there is nothing to check.")),
}
QUEUE_DOWN = ("暂时无法通知负责人，请稍后重试。", "The assignees cannot be told right now; retry later.")


def check_schema(svc):
    from minqing.attachments.base import is_issued
    from schemas.check import CheckSchema

    return CheckSchema(volunteers=svc.directory.active_volunteer_ids,
                       issued_key=lambda key: is_issued(svc.settings.secret_key, key))


@blueprint.post("/api/v1/checks/<receipt>")
def check(receipt: str):
    page = wants_page()
    try:
        status, outcome = _record(receipt)
    except Problem as problem:
        if not page:
            raise
        return _back_to_form(receipt, problem.slug)
    if page:
        return _back_to_form(receipt, "fixed" if outcome["check"] == "fixed" else "not-fixed")
    response = jsonify(outcome)
    response.status_code = status
    return response


def _record(receipt: str) -> tuple[int, dict]:
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    schema = check_schema(svc)
    try:
        given = schema.load(parse_body(schema))
    except ValidationError as error:
        raise Problem(422, "validation-error", errors=errors_by_path(error.messages, lang))
    volunteer = svc.directory.volunteers.get(given["volunteer_id"])
    # The roster's team when there is one; without a roster, the team the form carries.
    team = volunteer.team if volunteer else given.get("team", "")
    from minqing.store import cases, checks

    with svc.engine.begin() as connection:
        result = checks.record_check(connection, receipt, volunteer_id=given["volunteer_id"], team=team,
                                     round_id=given["round"], fixed=given["fixed"], note=given.get("note", ""),
                                     photos=given.get("photos") or [])
        if result in REFUSED:
            raise Problem(*REFUSED[result])
        case = cases.case_by_receipt(connection, receipt)
        if not given["fixed"]:
            # Queued before the commit, as staff's reassignments are: if the queue refuses, nothing is
            # recorded and the phone sends the check again. A resend queues again; the outbox tells once.
            try:
                svc.enqueue(NOTIFY_ASSIGNEES, case.id, checks.reopened_event(given["round"]))
            except Exception:
                raise Problem(503, "queue-unavailable", QUEUE_DOWN, headers={"Retry-After": "5"})
    body = {"receipt": receipt, "check": "fixed" if given["fixed"] else "not_fixed", "status": case.status,
            "already_recorded": result == "already-checked"}
    return (200 if result == "already-checked" else 201), body


def _back_to_form(receipt: str, outcome: str):
    keep = {k: request.args[k] for k in ("mode", "c", "team", "vid", "round", "lang") if k in request.args}
    query = urlencode({**keep, "mode": "patrol", "checked": receipt, "outcome": outcome})
    return redirect(f"/f/hazard?{query}#checks", 303)
