"""The staff case API (问题清单 · 任务清单): list, look at and work cases within the caller's scope."""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, g, jsonify, request
from marshmallow import ValidationError

from functions.auth import staff_required
from functions.intake import parse_body
from functions.problems import Problem, pick_lang
from functions.services import services
from minqing.domain import access, workflow
from minqing.domain.workflow import IllegalTransition
from minqing.receipts import parse_receipt
from minqing.store import base, cases, changes, scopes
from schemas import errors_by_path
from schemas import messages as m
from schemas.cases import CaseActionSchema, CaseFilterSchema
from schemas.responses import CaseDetail, CaseList
from workers.brokers import CHECK_PHOTO, NOTIFY_ASSIGNEES, TELL_REPORTER

blueprint = Blueprint("cases", __name__)
log = logging.getLogger("minqing.cases")

NOT_FOUND = ("没有这个案件，或您无权查看。", "No such case, or it is not yours to see.")
OUT_OF_SCOPE = ("您无权查看该社区的案件。", "You may not see that community's cases.")
BAD_CURSOR = ("分页游标无效，请从第一页重新开始。", "The cursor is not valid; start again from the first page.")
ILLEGAL = ("当前状态下不能执行该操作。", "That action is not possible from the case's current status.")
QUEUE_DOWN = ("暂时无法通知新的负责人，未做更改，请稍后重试。", "The new assignee cannot be told right now; nothing "
              "was changed. Retry shortly.")


def validation_problem(error: ValidationError, lang: str) -> Problem:
    return Problem(422, "validation-error", errors=errors_by_path(error.messages, lang))



def load_filters(staff) -> dict:
    lang = pick_lang(services().settings.default_lang)
    try:
        filters = CaseFilterSchema().load(request.args.to_dict())
    except ValidationError as error:
        raise validation_problem(error, lang)
    if filters.get("community") and not access.may_filter_community(staff, filters["community"]):
        raise Problem(403, "out-of-scope", OUT_OF_SCOPE)
    return filters


@blueprint.get("/api/v1/cases")
@staff_required
def list_cases():
    filters = load_filters(g.staff)
    at = base.now()
    with services().engine.connect() as connection:
        try:
            rows, next_cursor = cases.list_cases(connection, filters, scopes.scope_clause(g.staff), at)
        except cases.BadCursor:
            lang = pick_lang(services().settings.default_lang)
            raise Problem(400, "bad-cursor", BAD_CURSOR,
                          errors={"cursor": [BAD_CURSOR[1] if lang == "en" else BAD_CURSOR[0]]})
        assigned = cases.assignees_of(connection, [r.id for r in rows])
    items = [summary(row, assigned[row.id], at) for row in rows]
    return jsonify(CaseList().dump({"items": items, "next_cursor": next_cursor}))


@blueprint.get("/api/v1/cases/<case_id>")
@staff_required
def show_case(case_id: str):
    with services().engine.connect() as connection:
        return jsonify(detail(connection, find_case(connection, case_id)))


@blueprint.post("/api/v1/cases/<case_id>/actions")
@staff_required
def act(case_id: str):
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    with svc.engine.begin() as connection:
        case = find_case(connection, case_id)
        schema = CaseActionSchema(kind=case.kind, mode=case.payload.get("mode"))
        apply_action(connection, g.staff, case, parse_body(schema), lang)
    with svc.engine.connect() as connection:
        return jsonify(detail(connection, find_case(connection, case_id)))


def tell_reporter(svc, case, change, photos=()) -> None:
    """Queue the reporter's SMS or e-mail about `change`, if they asked for it; and the check of the step's
    photos (a copy without EXIF kept, the upload with its GPS position removed), whatever the step: the
    status page shows a resolve step's, the console every step's. Before the commit: if the queue refuses,
    nothing changes."""
    if change.after in workflow.REPORTER_TOLD_OF and workflow.wants_updates(case.payload):
        enqueue_or_503(svc, TELL_REPORTER, case.id, change.step)
    for key in photos:
        enqueue_or_503(svc, CHECK_PHOTO, case.id, key)


def apply_action(connection, staff, case, body: dict, lang: str) -> None:
    """Validate one step (CaseActionSchema) and make it, in the caller's transaction: the one path of the
    JSON API and of the staff console. Raises Problem (422, 409, 503) and changes nothing then."""
    svc = services()
    schema = CaseActionSchema(kind=case.kind, mode=case.payload.get("mode"))
    try:
        step = schema.load(body)
    except ValidationError as error:
        raise validation_problem(error, lang)
    details = step_details(connection, case, step, lang)
    action, note, photos = step["action"], step.get("note", ""), step.get("photos", [])
    try:
        if action in workflow.RECORD_ONLY:
            step_id, added = changes.record_step(connection, case.id, action, actor=staff.id, note=note,
                                                 photos=photos, details=details)
            if added:
                # Queued before the commit: if the queue refuses it, nothing is recorded and the caller
                # retries; the worker waits (retries) until it sees the committed step.
                enqueue_or_503(svc, NOTIFY_ASSIGNEES, case.id, changes.assigned_event(step_id))
        else:
            change = changes.transition(connection, case.id, action, actor=staff.id, note=note, photos=photos,
                                        details=details)
            tell_reporter(svc, case, change, photos)
    except IllegalTransition as error:
        raise Problem(409, "illegal-transition", ILLEGAL,
                      extra={"allowed": list(error.allowed), "current_status": error.status})


def enqueue_or_503(svc, actor_name: str, *args) -> None:
    try:
        svc.enqueue(actor_name, *args)
    except Exception:
        log.warning("queue unavailable for %s%r", actor_name, args, exc_info=True)
        raise Problem(503, "queue-unavailable", QUEUE_DOWN, headers={"Retry-After": "5"})


def step_details(connection, case, step: dict, lang: str) -> dict:
    """What the history keeps beside the note: reason, original, new assignees, outcome, figures."""
    details = {k: step[k] for k in ("reason", "assignees", "beneficiaries", "hours", "outcome", "reply")
               if k in step}
    if step["action"] == "publish":
        mine = case.payload.get("photos") or []
        chosen = step.get("public_photos", [])
        if any(key not in mine for key in chosen):
            message = m.NOT_THEIR_PHOTO
            raise Problem(422, "validation-error", errors={"public_photos": [m.localize(message, lang)]})
        details.update(public=step.get("public", True), public_text=step.get("public_text"), public_photos=chosen)
    if "assignees" in step:
        unknown = [s for s in step["assignees"] if s not in services().directory.staff]
        if unknown:
            message = m.UNKNOWN_STAFF.format(ids=", ".join(unknown))
            raise Problem(422, "validation-error", errors={"assignees": [m.localize(message, lang)]})
    if "duplicate_of" in step:
        original = original_case(connection, step["duplicate_of"])
        if original is None or original.id == case.id:
            message = m.UNKNOWN_CASE if original is None else m.SAME_CASE
            raise Problem(422, "validation-error", errors={"duplicate_of": [m.localize(message, lang)]})
        details["duplicate_of"] = original.id
    return details


def original_case(connection, code: str):
    """The case a duplicate points at, by receipt, if the caller may see it."""
    parsed = parse_receipt(services().settings.secret_key, code)
    if parsed is None:
        return None
    found = cases.case_by_receipt(connection, parsed[1])
    scope = scopes.scope_clause(g.staff)
    return found and cases.case_in_scope(connection, found.id, scope)


def find_case(connection, case_id: str):
    """The case, if it exists and is within the caller's scope; otherwise 404 either way, so that
    nobody learns that another community's case exists."""
    try:
        uuid.UUID(case_id)
    except ValueError:
        raise Problem(404, "case-not-found", NOT_FOUND)
    case = cases.case_in_scope(connection, case_id, scopes.scope_clause(g.staff))
    if case is None:
        raise Problem(404, "case-not-found", NOT_FOUND)
    return case


def summary(row, assignees: list[str], at) -> dict:
    return {
        "id": row.id, "receipt": row.receipt, "kind": row.kind, "community": row.community or None,
        "category": row.category, "priority": row.priority, "status": row.status,
        "submitted_at": row.submitted_at, "updated_at": row.updated_at, "due_at": row.due_at,
        "overdue": workflow.is_overdue(row.status, row.due_at, at), "assignees": assignees,
        "duplicate_of": row.duplicate_of,
    }


def detail(connection, case) -> dict:
    at = base.now()
    assignees = cases.assignees_of(connection, [case.id])[case.id]
    personal = access.sees_personal_data(g.staff, assignees)
    scope = scopes.scope_clause(g.staff)
    original = None
    if case.duplicate_of:
        found = cases.case_in_scope(connection, case.duplicate_of, scope)
        original = found and {"id": found.id, "receipt": found.receipt, "status": found.status}
    given = cases.feedback_of(connection, case.id)
    history = [{"status": h.status, "action": h.action, "at": h.at, "actor": h.actor, "note": h.note,
                "photos": h.photos or [], "details": h.details or {}}
               for h in cases.history_of(connection, case.id)]
    body = {
        **summary(case, assignees, at),
        "payload": case.payload if personal else access.masked_payload(case.payload),
        "personal_data": personal,
        "outcome": case.outcome,
        "history": history,
        "allowed_actions": [*workflow.ALLOWED.get(case.status, ()),
                            *workflow.record_only_for(case.kind, case.payload.get("mode"))],
        "original": original,
        "duplicates": [dict(r._mapping) for r in cases.duplicates_of(connection, case.id, scope)],
        "likely_duplicates": cases.likely_duplicates(connection, case, scope),
        "feedback": given and {"rating": given.rating, "fixed": bool(given.fixed), "comment": given.comment,
                               "at": given.at},
    }
    return CaseDetail().dump(body)
