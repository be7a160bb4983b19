"""Open311 GeoReport v2 for hazard reports, so FixMyStreet and other civic tools can file and follow them.

Every endpoint answers in JSON and in XML (`.json`, `.xml`): one serializer builds each answer and
`open311_xml` encodes it with the spec's element names. Posts go through the same schema, queue and workers
as the native form (intake.submit); the ids are receipt codes. Errors are Open311's list of {code,
description} (`<errors><error>…` in XML). `jurisdiction_id` is accepted: the street's code, and any other is a
404. mySociety's extension `servicerequestupdates` gives the office's updates and takes a resident's.

Listing needs no key and shows every hazard's `service_request_id`, so that id (a receipt) carries no
power: with it anyone may read a public status, and nothing more. Rating or reopening a case takes the
feedback code, which only the poster gets, in the answer to their post (`feedback_code`). What a listing
shows is what the public problem list shows: a resident's own words only once staff published them.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from functions.intake import submit
from functions.open311_xml import encode
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
CHANGESET = "2026-12-02T00:00:00+08:00"  # when these endpoints last changed (discovery)
FORMATS = ("json", "xml")


def both(rule: str, methods=("GET",)):
    """Register a view under `rule.json` and `rule.xml`; `_format()` tells which was asked for."""
    def register(view):
        for fmt in FORMATS:
            blueprint.add_url_rule(f"{rule}.{fmt}", f"{view.__name__}_{fmt}", view, methods=list(methods))
        return view
    return register


def _format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def answer(root: str, data, status: int = 200):
    """The one serializer's data, in the format asked for."""
    if _format() == "xml":
        return current_app.response_class(encode(root, data), status=status, mimetype="text/xml")
    response = jsonify(data)
    response.status_code = status
    return response


def _errors(status: int, descriptions, headers=None):
    response = answer("errors", [{"code": status, "description": d} for d in descriptions], status)
    response.headers.update(headers or {})
    return response


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions)
        self.status, self.descriptions = status, descriptions


@blueprint.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    return _errors(error.status, error.descriptions)


@blueprint.before_request
def _jurisdiction():
    given = request.values.get("jurisdiction_id")
    if given and given != services().directory.street.code:
        raise Open311Error(404, "jurisdiction_id not found")


@blueprint.errorhandler(Problem)
def _problem(error: Problem):
    english = _lang() == "en"
    if error.errors:
        described = [f"{field}: {'; '.join(messages)}" for field, messages in error.errors.items()]
    else:
        described = [error.detail[1 if english else 0] if error.detail else error.slug]
    return _errors(400 if error.status == 422 else error.status, described, error.headers)


@blueprint.errorhandler(HTTPException)
def _http(error: HTTPException):
    return _errors(error.code, [error.name])


def _lang() -> str:
    return pick_lang(services().settings.default_lang)


def _name(label) -> str:
    return label.en if _lang() == "en" else label.zh


def _service(code: str) -> dict:
    group = GROUPS.get(code, GROUPS["other"])
    return {"service_code": code, "service_name": _name(HAZARD_CATEGORIES[code]),
            "description": _name(HAZARD_CATEGORIES[code]), "metadata": True, "type": "realtime", "keywords": "",
            "group": group[1] if _lang() == "en" else group[0]}


@both("/discovery")
def discovery():
    """The spec's discovery file: whom to contact, when it changed, and the endpoint with its formats."""
    svc = services()
    street = svc.directory.street
    return answer("discovery", {
        "changeset": CHANGESET,
        "contact": f"{_name(street.name)} {svc.settings.base_url}/",
        "key_service": "MINQING_OPEN311_API_KEYS — ask the office for an API key",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": f"{svc.base_uri}/open311/v2",
                       "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    })


@both("/services")
def service_list():
    return answer("services", [_service(code) for code in HAZARD_CATEGORIES])


@blueprint.get("/services/<code>.json", endpoint="service_definition_json")
@blueprint.get("/services/<code>.xml", endpoint="service_definition_xml")
def service_definition(code: str):
    if code not in HAZARD_CATEGORIES:
        raise Open311Error(404, "service_code not found")
    communities = services().directory.communities
    return answer("service_definition", {"service_code": code, "attributes": [
        {"variable": True, "code": "community", "datatype": "singlevaluelist", "required": True, "order": 1,
         "description": "社区 Community", "datatype_description": "",
         "values": [{"key": c.code, "name": _name(c.name)} for c in communities.values()]},
        {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": "严重程度 Severity", "datatype_description": "",
         "values": [{"key": k, "name": _name(label)} for k, label in SEVERITIES.items()]},
    ]})


@both("/requests", methods=("POST",))
def create_request():
    form = request.form
    client = api_key(form.get("api_key"))
    if client is None:
        raise Open311Error(403, "api_key is missing or not valid")
    sid, receipt, code = submit("hazard", hazard_form(form), _lang(), api_key=client)
    # An extension member: the code is the reporter's, for the client to pass on to them alone.
    return answer("service_requests", [{"service_request_id": receipt, "service_notice": "", "account_id": None,
                                        "feedback_code": code}])


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


@both("/requests")
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
    return answer("service_requests", _find(receipts=receipts, category=args.get("service_code") or None,
                                            start=start, end=end, status=args.get("status") or None))


@blueprint.get("/requests/<code>.json", endpoint="request_one_json")
@blueprint.get("/requests/<code>.xml", endpoint="request_one_xml")
def request_one(code: str):
    found = _find(receipts=[code.upper()])
    if not found:
        raise Open311Error(404, "service_request_id not found")
    return answer("service_requests", found)


@blueprint.get("/tokens/<token>.json", endpoint="token_json")
@blueprint.get("/tokens/<token>.xml", endpoint="token_xml")
def token(token: str):
    """A post's answer already names its request (the receipt), so a token is that receipt: known once the
    request is stored, a 404 before."""
    found = _find(receipts=[token.upper()])
    if not found:
        raise Open311Error(404, "token not found (not stored yet: ask again shortly)")
    return answer("service_requests", [{"service_request_id": found[0]["service_request_id"], "token": token}])


@both("/servicerequestupdates")
def update_list():
    """mySociety's extension: the office's updates (status moves and public replies) between two times."""
    from minqing.store import public

    start, end = _moment("start_date"), _moment("end_date")
    if start is None and end is None:
        start = clock() - timedelta(days=DEFAULT_DAYS)
    svc = services()
    try:
        with svc.engine.connect() as connection:
            steps = public.hazard_updates(connection, start=start, end=end, limit=MAX_RESULTS)
    except Exception:
        raise Open311Error(503, "the service is temporarily unavailable")
    return answer("service_request_updates", [{
        "update_id": str(step.id),
        "service_request_id": step.receipt,
        "status": "OPEN" if step.status in ("received", "acknowledged", "in_progress", "reopened") else "CLOSED",
        "updated_datetime": step.at.isoformat(),
        "description": (step.details or {}).get("reply") or _name(CASE_STATUSES[step.status]),
        "media_url": (f"{svc.base_uri}/r/{step.receipt}/photos/{step.id}/0"
                      if step.action == "resolve" and step.photos else ""),
    } for step in steps])


@both("/servicerequestupdates", methods=("POST",))
def post_update():
    """mySociety's extension: a resident's update from a FixMyStreet site, kept as a note on the case (with
    an API key). It moves nothing: a status it carries is recorded, not applied, since only the reporter's
    feedback code may reopen or close a case."""
    from minqing.store import cases, changes

    form = request.form
    if api_key(form.get("api_key")) is None:
        raise Open311Error(403, "api_key is missing or not valid")
    text = (form.get("description") or "").strip()
    if not text or len(text) > 2000:
        raise Open311Error(400, "description is required (at most 2000 characters)")
    receipt = (form.get("service_request_id") or "").strip().upper()
    svc = services()
    with svc.engine.begin() as connection:
        case = cases.case_by_receipt(connection, receipt) if receipt else None
        if case is None or case.kind != "hazard":
            raise Open311Error(404, "service_request_id not found")
        external = (form.get("update_id") or "")[:64]
        earlier = external and next((h.id for h in cases.history_of(connection, case.id)
                                     if h.action == "update" and (h.details or {}).get("update_id") == external), None)
        step = earlier or changes.record_resident_update(
            connection, case.id, text=text, actor="open311",
            details={k: v for k, v in (("update_id", external), ("media_url", form.get("media_url", "")[:500]),
                                       ("status", form.get("status", "")[:16])) if v})
    return answer("service_request_updates", [{"update_id": str(step)}])


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
    from minqing.privacy import coarse_place, mask_personal_numbers_in
    from minqing.store import cases, public

    svc = services()
    try:
        with svc.engine.connect() as connection:
            rows = cases.hazard_requests(connection, limit=MAX_RESULTS, **filters)
            known = public.summaries(connection, [row.id for row in rows])
    except Exception:
        raise Open311Error(503, "the service is temporarily unavailable")
    street = _name(svc.directory.street.name)
    found = []
    for row in rows:
        location = row.payload.get("location") or {}
        community = svc.directory.communities.get(row.community)
        shown = known[row.id]["published"]
        category = _name(HAZARD_CATEGORIES.get(row.category, HAZARD_CATEGORIES["other"]))
        # Until staff publish the resident's words: category, community and a rough place, as on /problems.
        default = " · ".join(p for p in (category, _name(community.name) if community else "",
                                         coarse_place(location.get("address"))) if p)
        text = (shown["text"] if shown["text"] is not None else row.payload.get("description", "")) if shown \
            else default
        found.append({
            "service_request_id": row.receipt,
            "status": "open" if workflow.is_open(row.status) else "closed",
            "status_notes": known[row.id]["reply"] or _name(CASE_STATUSES[row.status]),
            "service_name": _name(HAZARD_CATEGORIES.get(row.category, HAZARD_CATEGORIES["other"])),
            "service_code": row.category,
            "description": mask_personal_numbers_in(text),
            "agency_responsible": street,
            "service_notice": "",
            "requested_datetime": row.submitted_at.isoformat(),
            "updated_datetime": row.updated_at.isoformat(),
            "expected_datetime": row.due_at.isoformat() if row.due_at else "",
            "address": coarse_place(location.get("address")),
            "address_id": None,
            "zipcode": None,
            # To about 100 m, as the public map: near enough to find it, not to find a door.
            "lat": round(location["lat"], 3) if "lat" in location else None,
            "long": round(location["lon"], 3) if "lon" in location else None,
            "media_url": (row.payload.get("media_url") if shown else None) or None,
        })
    return found


def document(spec) -> None:
    """Add the Open311 paths, each in JSON and XML, to the OpenAPI document."""
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
    xml = {"schema": {"type": "string", "description": "the same data as the JSON answer, as GeoReport v2 XML"}}

    def answers(fmt: str, ok: dict, *codes: int) -> dict:
        def content(schema):
            return {"text/xml": xml} if fmt == "xml" else {"application/json": {"schema": schema}}
        found = {"200": {"description": "OK", "content": content(ok)}}
        for code in codes:
            found[str(code)] = {"description": "Open311 errors", "content": content(error)}
        return found

    array = lambda item: {"type": "array", "items": item}  # noqa: E731
    tags = ["open311"]
    jurisdiction = {"in": "query", "name": "jurisdiction_id", "schema": {"type": "string"},
                    "description": "the street's code; another is a 404"}
    code_path = {"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}
    form = {"type": "object", "properties": {k: {"type": "string"} for k in (
        "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "description", "media_url",
        "first_name", "last_name", "phone", "email", "attribute[community]", "attribute[severity]")}}
    update_form = {"type": "object", "properties": {k: {"type": "string"} for k in (
        "api_key", "jurisdiction_id", "service_request_id", "update_id", "description", "status",
        "updated_datetime", "media_url", "first_name", "last_name", "email")}}
    posted = array({"type": "object", "properties": {
        "service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
        "account_id": {"type": "null"},
        "feedback_code": {"type": "string", "description": "the reporter's private code for rating the outcome "
                                                           "(POST /api/v1/receipts/{code}/feedback); for them alone"}}})
    for fmt in ("json", "xml"):
        base = "/open311/v2"
        spec.path(path=f"{base}/discovery.{fmt}", operations={"get": {
            "summary": "the discovery file: contact, changeset, endpoints and formats", "tags": tags,
            "responses": answers(fmt, {"type": "object"}, 429)}})
        spec.path(path=f"{base}/services.{fmt}", operations={"get": {
            "summary": "hazard categories as Open311 services", "tags": tags, "parameters": [jurisdiction],
            "responses": answers(fmt, array({"type": "object"}), 404, 429)}})
        spec.path(path=f"{base}/services/{{code}}.{fmt}", operations={"get": {
            "summary": "a service definition (community and severity attributes)", "tags": tags,
            "parameters": [code_path, jurisdiction], "responses": answers(fmt, {"type": "object"}, 404, 429)}})
        spec.path(path=f"{base}/requests.{fmt}", operations={
            "post": {"summary": "file a hazard report (form-encoded, with an API key)", "tags": tags,
                     "requestBody": {"required": True,
                                     "content": {"application/x-www-form-urlencoded": {"schema": form}}},
                     "responses": answers(fmt, posted, 400, 403, 404, 413, 429, 503)},
            "get": {"summary": "hazard reports (default: the last 90 days, at most 1000)", "tags": tags,
                    "parameters": [{"in": "query", "name": n, "schema": {"type": "string"}} for n in (
                        "service_request_id", "service_code", "start_date", "end_date", "status")] + [jurisdiction],
                    "responses": answers(fmt, array(request_item), 400, 404, 429, 503)}})
        spec.path(path=f"{base}/requests/{{code}}.{fmt}", operations={"get": {
            "summary": "one hazard report", "tags": tags, "parameters": [code_path, jurisdiction],
            "responses": answers(fmt, array(request_item), 404, 429, 503)}})
        spec.path(path=f"{base}/tokens/{{token}}.{fmt}", operations={"get": {
            "summary": "a token's request (a token is the receipt)", "tags": tags,
            "parameters": [{"in": "path", "name": "token", "required": True, "schema": {"type": "string"}},
                           jurisdiction],
            "responses": answers(fmt, array({"type": "object"}), 404, 429, 503)}})
        spec.path(path=f"{base}/servicerequestupdates.{fmt}", operations={
            "get": {"summary": "mySociety's extension: the office's updates (status, public reply, after-photo)",
                    "tags": tags, "parameters": [{"in": "query", "name": n, "schema": {"type": "string"}}
                                                 for n in ("start_date", "end_date")] + [jurisdiction],
                    "responses": answers(fmt, array({"type": "object"}), 400, 404, 429, 503)},
            "post": {"summary": "mySociety's extension: a resident's update from another site, kept as a note",
                     "tags": tags, "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": update_form}}},
                     "responses": answers(fmt, array({"type": "object"}), 400, 403, 404, 413, 429, 503)}})
