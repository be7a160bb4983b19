"""Open311 GeoReport v2 for hazard reports, so other civic tools can file and follow them.

Posts go through the same schema, queue and workers as the native form (intake.submit); the ids are
receipt codes. JSON only. Errors are Open311's list of {code, description}.

Listing needs no key and shows every hazard's `service_request_id`, so that id (a receipt) carries no
power: with it anyone may read a public status, and nothing more. Rating or reopening a case takes the
feedback code, which only the poster gets, in the answer to their post (`feedback_code`).
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from functions.intake import submit
from functions.problems import Problem, pick_lang
from functions.services import services
from schemas.choices import CASE_STATUSES, HAZARD_CATEGORIES, SEVERITIES
from schemas.fields import now as clock

blueprint = Blueprint("open311", __name__, url_prefix="/open311/v2")

GROUPS = {
    "fire_safety": ("安全隐患", "Safety"), "structure": ("安全隐患", "Safety"), "ev_charging": ("安全隐患", "Safety"),
    "sanitation": ("环境与设施", "Environment and facilities"), "lighting": ("环境与设施", "Environment and facilities"),
    "facility": ("环境与设施", "Environment and facilities"), "traffic_parking": ("交通", "Traffic"),
    "other": ("其他", "Other"),
}
DEFAULT_DAYS, MAX_RESULTS = 90, 1000


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions)
        self.status, self.descriptions = status, descriptions


@blueprint.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    return jsonify([{"code": error.status, "description": d} for d in error.descriptions]), error.status


@blueprint.errorhandler(Problem)
def _problem(error: Problem):
    english = _lang() == "en"
    if error.errors:
        described = [f"{field}: {'; '.join(messages)}" for field, messages in error.errors.items()]
    else:
        described = [error.detail[1 if english else 0] if error.detail else error.slug]
    status = 400 if error.status == 422 else error.status
    response = jsonify([{"code": status, "description": d} for d in described])
    response.status_code = status
    response.headers.update(error.headers)
    return response


@blueprint.errorhandler(HTTPException)
def _http(error: HTTPException):
    return jsonify([{"code": error.code, "description": error.name}]), error.code


def _lang() -> str:
    return pick_lang(services().settings.default_lang)


def _name(label) -> str:
    return label.en if _lang() == "en" else label.zh


def _service(code: str) -> dict:
    group = GROUPS.get(code, GROUPS["other"])
    return {"service_code": code, "service_name": _name(HAZARD_CATEGORIES[code]),
            "description": _name(HAZARD_CATEGORIES[code]), "metadata": True, "type": "realtime", "keywords": "",
            "group": group[1] if _lang() == "en" else group[0]}


@blueprint.get("/services.json")
def service_list():
    return jsonify([_service(code) for code in HAZARD_CATEGORIES])


@blueprint.get("/services/<code>.json")
def service_definition(code: str):
    if code not in HAZARD_CATEGORIES:
        raise Open311Error(404, "service_code not found")
    communities = services().directory.communities
    return jsonify({"service_code": code, "attributes": [
        {"variable": True, "code": "community", "datatype": "singlevaluelist", "required": True, "order": 1,
         "description": "社区 Community", "datatype_description": "",
         "values": [{"key": c.code, "name": _name(c.name)} for c in communities.values()]},
        {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": "严重程度 Severity", "datatype_description": "",
         "values": [{"key": k, "name": _name(label)} for k, label in SEVERITIES.items()]},
    ]})


@blueprint.post("/requests.json")
def create_request():
    form = request.form
    client = api_key(form.get("api_key"))
    if client is None:
        raise Open311Error(403, "api_key is missing or not valid")
    sid, receipt, code = submit("hazard", hazard_form(form), _lang(), api_key=client)
    # An extension member: the code is the reporter's, for the client to pass on to them alone.
    return jsonify([{"service_request_id": receipt, "service_notice": "", "account_id": None, "feedback_code": code}])


def api_key(given: str | None) -> str | None:
    """The configured API key `given` is, or None. Compared with every key in constant time, so that how
    long a refusal takes tells nothing of how much of a key was right, nor of which key."""
    found = None
    given_bytes = (given or "").encode()
    for key in services().settings.open311_api_keys:
        if hmac.compare_digest(given_bytes, key.encode()):
            found = key
    return found if given else None


def hazard_form(form) -> dict:
    """An Open311 request in the shape of the native hazard form; the schema then judges it."""
    raw: dict = {"category": form.get("service_code", ""), "community": form.get("attribute[community]", ""),
                 "description": form.get("description", "")}
    if form.get("attribute[severity]"):
        raw["severity"] = form["attribute[severity]"]
    location: dict = {}
    if form.get("lat") or form.get("long"):
        location.update(lat=_number(form.get("lat")), lon=_number(form.get("long")))
    location["address"] = form.get("address_string") or (
        f"{form.get('lat')}, {form.get('long')}" if location else "")
    raw["location"] = location
    if form.get("media_url"):
        raw["media_url"] = form["media_url"]
    # Chinese names are family name first.
    name = "".join(part for part in (form.get("last_name", ""), form.get("first_name", "")) if part).strip()
    if name or form.get("phone"):
        raw["contact"] = {k: v for k, v in (("name", name), ("phone", form.get("phone", ""))) if v}
    return {k: v for k, v in raw.items() if v not in ("", None)}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text  # the schema reports it


@blueprint.get("/requests.json")
def request_list():
    args = request.args
    now = clock()
    start, end = _moment("start_date"), _moment("end_date")
    if args.get("status") not in (None, "", "open", "closed"):
        raise Open311Error(400, "status must be open or closed")
    if args.get("service_code") and args["service_code"] not in HAZARD_CATEGORIES:
        raise Open311Error(400, "service_code not found")
    receipts = [r.strip().upper() for r in args.get("service_request_id", "").split(",") if r.strip()]
    if not receipts and start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    return jsonify(_find(receipts=receipts, category=args.get("service_code") or None, start=start, end=end,
                         status=args.get("status") or None))


@blueprint.get("/requests/<code>.json")
def request_one(code: str):
    found = _find(receipts=[code.upper()])
    if not found:
        raise Open311Error(404, "service_request_id not found")
    return jsonify(found)


def _moment(name: str) -> datetime | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone(timedelta(hours=8)))


def _find(**filters) -> list[dict]:
    from minqing.domain import workflow
    from minqing.privacy import mask_personal_numbers_in
    from minqing.store import cases

    svc = services()
    try:
        with svc.engine.connect() as connection:
            rows = cases.hazard_requests(connection, limit=MAX_RESULTS, **filters)
    except Exception:
        raise Open311Error(503, "the service is temporarily unavailable")
    street = _name(svc.directory.street.name)
    found = []
    for row in rows:
        location = row.payload.get("location") or {}
        found.append({
            "service_request_id": row.receipt,
            "status": "open" if workflow.is_open(row.status) else "closed",
            "status_notes": _name(CASE_STATUSES[row.status]),
            "service_name": _name(HAZARD_CATEGORIES.get(row.category, HAZARD_CATEGORIES["other"])),
            "service_code": row.category,
            "description": mask_personal_numbers_in(row.payload.get("description", "")),
            "agency_responsible": street,
            "service_notice": "",
            "requested_datetime": row.submitted_at.isoformat(),
            "updated_datetime": row.updated_at.isoformat(),
            "expected_datetime": row.due_at.isoformat() if row.due_at else "",
            "address": mask_personal_numbers_in(location.get("address", "")),
            "address_id": None,
            "zipcode": None,
            "lat": location.get("lat"),
            "long": location.get("lon"),
            "media_url": row.payload.get("media_url") or None,
        })
    return found


def document(spec) -> None:
    """Add the Open311 paths to the OpenAPI document."""
    error = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
        "code": {"type": "integer"}, "description": {"type": "string"}}}}
    nullable_number = {"type": ["number", "null"]}
    request_item = {"type": "object", "properties": {
        **{k: {"type": "string"} for k in ("service_request_id", "status", "status_notes", "service_name",
                                           "service_code", "description", "agency_responsible", "service_notice",
                                           "requested_datetime", "updated_datetime", "expected_datetime",
                                           "address")},
        "lat": nullable_number, "long": nullable_number, "media_url": {"type": ["string", "null"]},
        "address_id": {"type": ["string", "null"]}, "zipcode": {"type": ["string", "null"]}}}

    def answers(ok: dict, *codes: int) -> dict:
        found = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
        for code in codes:
            found[str(code)] = {"description": "Open311 errors", "content": {"application/json": {"schema": error}}}
        return found

    array = lambda item: {"type": "array", "items": item}  # noqa: E731
    tags = ["open311"]
    spec.path(path="/open311/v2/services.json", operations={"get": {
        "summary": "hazard categories as Open311 services", "tags": tags,
        "responses": answers(array({"type": "object"}), 429)}})
    spec.path(path="/open311/v2/services/{code}.json", operations={"get": {
        "summary": "a service definition (community and severity attributes)", "tags": tags,
        "parameters": [{"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}],
        "responses": answers({"type": "object"}, 404, 429)}})
    form = {"type": "object", "properties": {k: {"type": "string"} for k in (
        "api_key", "service_code", "lat", "long", "address_string", "description", "media_url", "first_name",
        "last_name", "phone", "email", "attribute[community]", "attribute[severity]")}}
    spec.path(path="/open311/v2/requests.json", operations={
        "post": {"summary": "file a hazard report (form-encoded, with an API key)", "tags": tags,
                 "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form}}},
                 "responses": answers(array({"type": "object", "properties": {
                     "service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
                     "account_id": {"type": "null"},
                     "feedback_code": {"type": "string", "description": "the reporter's private code for rating "
                                       "the outcome (POST /api/v1/receipts/{code}/feedback); for them alone"}}}),
                     400, 403, 413, 429, 503)},
        "get": {"summary": "hazard reports (default: the last 90 days, at most 1000)", "tags": tags,
                "parameters": [{"in": "query", "name": n, "schema": {"type": "string"}} for n in (
                    "service_request_id", "service_code", "start_date", "end_date", "status")],
                "responses": answers(array(request_item), 400, 429, 503)}})
    spec.path(path="/open311/v2/requests/{code}.json", operations={"get": {
        "summary": "one hazard report", "tags": tags,
        "parameters": [{"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}],
        "responses": answers(array(request_item), 404, 429, 503)}})
