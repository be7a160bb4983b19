"""我的任务, 问题清单 and the case page with its action forms. Every read and every step goes through the
case API's own functions (functions/cases.py), so scope, masking and the workflow are one implementation."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import g, redirect, request, url_for
from marshmallow import ValidationError

from functions import cases as api
from functions.console.base import (
    blueprint,
    community_name,
    lang,
    lang_arg,
    page,
    staff_page,
)
from functions.console.map import case_map
from functions.console.texts import (
    CASE_ACTIONS,
    CASE_SORTS,
    CASE_STATUSES,
    CATEGORIES,
    ENTERPRISE_OUTCOMES,
    FIELD_LABELS,
    KINDS,
    REJECT_REASONS,
    TEXTS,
    label,
)
from functions.intake import parse_body
from functions.problems import Problem
from functions.services import services
from minqing.domain import access, replies, workflow
from minqing.store import base, cases, photos, scopes
from schemas import errors_by_path
from schemas.cases import CaseActionSchema, CaseFilterSchema

LIST_LIMIT = 30


def view_row(row, assignees, at, language):
    """What a list shows of a case: codes as labels, the deadline, overdue or not."""
    return {"id": row.id, "receipt": row.receipt, "kind": label(KINDS, row.kind, language),
            "category": label(CATEGORIES, row.category, language), "status": row.status,
            "status_label": label(CASE_STATUSES, row.status, language),
            "community": community_name(row.community, language), "due_at": row.due_at,
            "overdue": workflow.is_overdue(row.status, row.due_at, at), "submitted_at": row.submitted_at,
            "assignees": [staff_name(s) for s in assignees],
            "excerpt": (row.payload.get("description") or (row.payload.get("enterprise") or {}).get("name") or "")[:80]}


def staff_name(staff_id: str) -> str:
    found = services().directory.staff.get(staff_id)
    return found.name if found else staff_id


@blueprint.get("/staff/")
@staff_page
def tasks():
    at, language = base.now(), lang()
    scope = scopes.scope_clause(g.staff)
    with services().engine.connect() as connection:
        mine = cases.open_assigned_to(connection, g.staff.id, scope)
        escalated = cases.escalated_to(connection, g.staff.id, scope)
        assigned = cases.assignees_of(connection, [r.id for r in [*mine, *escalated]])
    mine_rows = [view_row(r, assigned[r.id], at, language) for r in mine]
    # Overdue first, then by deadline: the query orders by deadline, which already puts overdue ones first.
    return page("tasks.html", mine=mine_rows, escalated=[view_row(r, assigned[r.id], at, language) for r in escalated])


FILTER_NAMES = ("kind", "status", "community", "category", "assignee", "overdue", "submitted_from", "submitted_to",
                "q", "sort")


@blueprint.get("/staff/cases")
@staff_page
def case_list():
    at, language = base.now(), lang()
    asked = {k: v for k, v in request.args.items() if k in (*FILTER_NAMES, "cursor") and v.strip()}
    errors, filters = {}, {}
    try:
        filters = CaseFilterSchema().load({**asked, "limit": LIST_LIMIT})
        if filters.get("community") and not access.may_filter_community(g.staff, filters["community"]):
            errors = {"community": [TEXTS[language]["not_found"]]}
    except ValidationError as error:
        errors = errors_by_path(error.messages, language)
    rows, next_cursor, counts, complete, assigned = [], None, {}, True, {}
    if not errors:
        scope = scopes.scope_clause(g.staff)
        with services().engine.connect() as connection:
            try:
                rows, next_cursor = cases.list_cases(connection, filters, scope, at)
            except cases.BadCursor:
                filters.pop("cursor", None)
                rows, next_cursor = cases.list_cases(connection, filters, scope, at)
            counts, complete = cases.status_counts(connection, filters, scope, at)
            assigned = cases.assignees_of(connection, [r.id for r in rows])
    kept = {k: v for k, v in asked.items() if k != "cursor"}
    if language == "en":
        kept["lang"] = "en"
    query = urlencode(kept)
    return page("cases.html", rows=[view_row(r, assigned[r.id], at, language) for r in rows], asked=asked,
                errors=errors, counts=counts if complete else None,
                total=f"{sum(counts.values()):,}" if complete else f"{cases.COUNT_CAP:,}+",
                options=filter_options(language),
                next_url=next_cursor and f"?{urlencode({**kept, 'cursor': next_cursor})}",
                first_url=asked.get("cursor") and f"?{query}", query=query,
                status_url=lambda s: "?" + urlencode({**{k: v for k, v in kept.items() if k != "status"},
                                                       **({"status": s} if s else {})}))


def filter_options(language: str) -> dict:
    directory, me = services().directory, g.staff
    communities = [(code, community_name(code, language)) for code in directory.communities
                   if access.may_filter_community(me, code)]
    return {
        "kind": [(k, label(KINDS, k, language)) for k in KINDS],
        "status": [(k, label(CASE_STATUSES, k, language)) for k in CASE_STATUSES],
        "community": communities,
        "category": [(k, label(CATEGORIES, k, language)) for k in CATEGORIES],
        "assignee": [(s.id, s.name) for s in directory.staff.values()],
        "sort": [(k, label(CASE_SORTS, k, language)) for k in CASE_SORTS],
    }


# Shown elsewhere on the page (photos, category, community) or of no use to staff (the form's plumbing).
HIDDEN = {"photos", "category", "community", "lang", "client_ref", "hp", "location.crs", "contact.anonymous"}


def flat_payload(payload: dict, language: str, prefix: str = "") -> list[tuple[str, str]]:
    """The form's answers as (label, text) lines, in the order they were given; photos shown apart."""
    lines = []
    for key, value in payload.items():
        path = f"{prefix}{key}"
        if key in HIDDEN or path in HIDDEN or value in (None, "", [], {}, False):
            continue
        if isinstance(value, dict):
            lines.extend(flat_payload(value, language, path + "."))
            continue
        names = FIELD_LABELS.get(path)
        name = (names[1] if language == "en" else names[0]) if names else path
        lines.append((name, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return lines


def case_view(connection, case, language: str) -> dict:
    """The case as the API's detail shows it to this member of staff, with labels, photos and forms."""
    shown = api.detail(connection, case)
    texts = TEXTS[language]
    history = [{**h, "at": office_time(h["at"]), "status_label": label(CASE_STATUSES, h["status"], language),
                "action_label": label(CASE_ACTIONS, h.get("action"), language) if h.get("action") else "",
                "reason_label": label(REJECT_REASONS, (h.get("details") or {}).get("reason"), language),
                "assignee_names": [staff_name(a) for a in (h.get("details") or {}).get("assignees") or ()],
                "actor_name": {"system": texts["system"], "resident": texts["resident"]}.get(h["actor"])
                or staff_name(h["actor"])} for h in shown["history"]]
    location = (case.payload.get("location") or {}) if isinstance(case.payload, dict) else {}
    return {**shown, "view": view_row(case, shown["assignees"], base.now(), language),
            "lines": flat_payload(shown["payload"], language), "history": history,
            "photos": case_photos(connection, case, shown["history"]), "location": location,
            "small_map": case_map(connection, case, language),
            "forms": action_forms(case, shown, language)}


def office_time(moment: str) -> str:
    """An ISO moment from the API's history as the office reads it (UTC+8)."""
    from datetime import datetime

    from minqing.domain.tallies import OFFICE_TZ

    try:
        return datetime.fromisoformat(moment).astimezone(OFFICE_TZ).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return moment


def case_photos(connection, case, history=None) -> list[dict]:
    """The cleaned staff copies of the resident's photos, then the photos staff added to steps (from
    `history`, the API detail's, when the caller has read it already)."""
    # A step's photo is checked too: each photo once, as its clean copy once the check has made it (the
    # upload until then, for the seconds the check takes); one the check refused is not shown.
    recorded = photos.photos_of(connection, case.id)
    checked = {p.key: p.staff_key for p in recorded if p.status == "ok" and p.staff_key}
    refused = {p.key for p in recorded} - set(checked)
    named = [k for k in (case.payload.get("photos") or []) + (case.payload.get("after_photos") or []) if k in checked]
    found = [{"key": checked[key], "by": "resident"} for key in named]
    steps = history if history is not None else [{"actor": h.actor, "photos": h.photos}
                                                  for h in cases.history_of(connection, case.id)]
    for step in steps:
        found.extend({"key": checked.get(key, key), "by": step["actor"]} for key in step["photos"] or ()
                     if isinstance(key, str) and key not in refused)
    return found


# Which inputs an action's form has beyond the note: the action schema's rules (schemas/cases.py), for the
# actions the workflow allows now. An action added to the workflow and the schema gets a form with a note.
def action_forms(case, shown: dict, language: str) -> list[dict]:
    forms = []
    mode = case.payload.get("mode")
    values = reply_values(case, language)
    for action in shown["allowed_actions"]:
        inputs = ["note"]
        if action in ("resolve", "note"):
            inputs.append("photos")
        if action == "resolve" and case.kind == "consultation" and mode == "request":
            inputs += ["beneficiaries", "hours"]
        if action == "resolve" and case.kind == "enterprise":
            inputs.append("outcome")
        if action == "reject":
            inputs = ["reason", "duplicate_of", "note"]
        if action == "assign":
            inputs = ["assignees", "note"]
        templates = [replies.fill(r.text.en if language == "en" else r.text.zh, values)
                     for r in services().directory.replies_for(case.kind, case.category, action)]
        forms.append({"action": action, "label": label(CASE_ACTIONS, action, language), "inputs": inputs,
                      "templates": templates, "primary": action in ("acknowledge", "start", "resolve", "close")})
    return forms


def reply_values(case, language: str) -> dict:
    location = case.payload.get("location") or {}
    return {"receipt": case.receipt, "category": label(CATEGORIES, case.category, language),
            "community": community_name(case.community, language), "address": location.get("address", ""),
            "staff": g.staff.name}


def choice_lists(language: str) -> dict:
    return {"reason": [(k, label(REJECT_REASONS, k, language)) for k in REJECT_REASONS],
            "outcome": [(k, label(ENTERPRISE_OUTCOMES, k, language)) for k in ENTERPRISE_OUTCOMES],
            "staff": [(s.id, s.name) for s in services().directory.staff.values()]}


@blueprint.get("/staff/cases/<case_id>")
@staff_page
def case_page(case_id: str):
    language = lang()
    with services().engine.connect() as connection:
        case = found_case(connection, case_id)
        if case is None:
            return page("message.html", 404, message=TEXTS[language]["not_found"])
        view = case_view(connection, case, language)
    return page("case.html", case=view, choices=choice_lists(language), errors={}, failed_action=None,
                done=request.args.get("done") and label(CASE_ACTIONS, request.args["done"][:20], language))


def found_case(connection, case_id: str):
    try:
        return api.find_case(connection, case_id)
    except Problem:
        return None


@blueprint.post("/staff/cases/<case_id>/actions")
@staff_page
def case_action(case_id: str):
    """One step from the action form, made by the API's `apply_action`; the page again with the errors next
    to their fields if it is refused."""
    svc, language = services(), lang()
    errors, detail = {}, None
    with svc.engine.connect() as connection:
        case = found_case(connection, case_id)
    if case is None:
        return page("message.html", 404, message=TEXTS[language]["not_found"])
    schema = CaseActionSchema(kind=case.kind, mode=case.payload.get("mode"))
    try:
        body = parse_body(schema)
        body.pop("csrf", None)
        with svc.engine.begin() as connection:
            case = api.find_case(connection, case_id)
            api.apply_action(connection, g.staff, case, body, language)
    except Problem as problem:
        from functions.attachments import discard_new_form_photos

        discard_new_form_photos()
        errors = problem.errors or {}
        detail = problem.detail and problem.detail[1 if language == "en" else 0]
        with svc.engine.connect() as connection:
            case = found_case(connection, case_id)
            if case is None:
                return page("message.html", 404, message=TEXTS[language]["not_found"])
            view = case_view(connection, case, language)
        return page("case.html", problem.status, case=view, choices=choice_lists(language), errors=errors,
                    detail=detail, failed_action=request.form.get("action"), given=request.form)
    return redirect(url_for("console.case_page", case_id=case_id, done=body.get("action"), **lang_arg()), 303)
