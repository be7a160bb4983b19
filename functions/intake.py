"""The shared path of every form: parse → validate → enqueue → answer 202 (or a problem)."""

from __future__ import annotations

import json
import logging

from flask import Response, g, request
from marshmallow import ValidationError, fields
from werkzeug.datastructures import MultiDict

from functions.problems import Problem, pick_lang
from functions.services import services
from minqing.receipts import (
    body_hash,
    client_scope,
    feedback_code,
    issue,
    keyed_submission_id,
    submission_id,
)
from schemas import errors_by_path
from schemas.fields import now
from schemas.responses import Accepted as AcceptedSchema

log = logging.getLogger("minqing.intake")

JSON_TYPES = {"application/json"}
FORM_TYPES = {"application/x-www-form-urlencoded"}
# A form with a photo, posted by a browser without JavaScript: the photos are stored first (attachments.py).
MULTIPART_TYPES = {"multipart/form-data"}
# Keys that steer the request, not the report: they do not make two bodies different.
NOT_CONTENT = {"client_ref", "lang"}
MAX_FORM_PHOTOS = 6

_ACCEPTED = AcceptedSchema()

def accept(kind: str):
    """Handle one form post of `kind`: 202 JSON, or for a browser's own form post a page (see pages.py)."""
    if wants_page():
        from functions.pages import answer_browser

        # A form shown again keeps its stored photos in hidden fields, so the resident need not attach
        # them again; abandoned, they are removed by the sweep (workers/unclaimed_uploads.py).
        return answer_browser(kind, receive)
    try:
        return answer(*receive(kind))
    except Problem:
        # Nothing will name the photos of a post answered with an error: remove them now.
        if "new_form_photos" in g:
            from functions.attachments import discard_new_form_photos

            discard_new_form_photos()
        raise


def wants_page() -> bool:
    """A plain HTML form post from a browser, which wants a page back rather than JSON."""
    if request.mimetype not in FORM_TYPES | MULTIPART_TYPES:
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def receive(kind: str) -> tuple[str, str, str, str]:
    """Parse, validate and enqueue one submission of `kind`: (id, receipt, feedback code, lang), or a Problem."""
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    sid, receipt, code = submit(kind, parse_body(svc.schemas[kind]), lang)
    return sid, receipt, code, lang


def submit(kind: str, raw: dict, lang: str, api_key: str | None = None) -> tuple[str, str, str]:
    """Validate `raw` and queue it (once per idempotency key); (id, receipt, feedback code), or a Problem.

    The feedback code is for the one who reported only: answer it to them and to nobody else.

    Every way in (the native forms, Open311) goes through here: same schemas, same queue, same workers.
    Idempotency keys are each client's own: the native forms share one scope, and each API key (`api_key`,
    an Open311 client's) has its own.
    """
    svc = services()
    schema = svc.schemas[kind]
    try:
        data = schema.load(raw)
    except ValidationError as error:
        raise Problem(422, "validation-error", errors=errors_by_path(error.messages, lang))
    key = idempotency_key(data)
    content = {k: v for k, v in data.items() if k not in NOT_CONTENT}
    if key is None:
        sid = submission_id(svc.settings.secret_key, kind)
    else:
        key, sid, stored_receipt = keyed(kind, key, content, lang, api_key)
        if stored_receipt is not None:
            return sid, stored_receipt, feedback_code(svc.settings.secret_key, sid)
    receipt, code = issue(svc.settings.secret_key, kind, sid)
    envelope = {
        "id": sid,
        "receipt": receipt,
        "kind": kind,
        # The worker hashes the content as it stores it: only a retry under a key needs the hash here.
        "data": content,
        "idempotency_key": key,
        "lang": data.get("lang") or lang,
        "submitted_at": now().isoformat(),
    }
    try:
        svc.enqueue_submission(envelope)
    except Exception:
        log.exception("queue refused submission %s", sid)
        raise Problem(503, "queue-unavailable", (
            "提交暂时无法受理，请稍后重试，内容不会重复登记。",
            "The submission could not be queued; retry later, it will not be recorded twice."),
            headers={"Retry-After": "5"})
    return sid, receipt, code


def keyed(kind: str, key: str, content: dict, lang: str, api_key: str | None) -> tuple[str, str, str | None]:
    """(scoped key, id, receipt if already stored) for a post under an idempotency key, or a Problem when
    the client used the key for another form.

    The id is derived from the content too: two forms racing under one key, neither stored yet, are both
    queued and both stored, never one dropped for the other after its 202.
    """
    secret = services().settings.secret_key
    scoped = f"{client_scope(secret, api_key)}:{key}"
    content_hash = body_hash(content)
    stored = services().stored_under_key(kind, scoped, submission_id(secret, kind, key))
    for row in stored:
        if row.body_hash == content_hash:
            return scoped, row.id, row.receipt
    # A submission from before keys were scoped answers its retry, but refuses nothing: whose key it was is
    # not known.
    if any(row.idempotency_key == scoped for row in stored):
        raise Problem(422, "idempotency-key-reused", (
            "该幂等键已用于另一份不同的提交。", "This idempotency key was already used for a different submission."),
            errors={"Idempotency-Key": ["与已受理的提交内容不一致" if lang == "zh-CN" else
                                        "does not match the submission already received"]})
    return scoped, keyed_submission_id(secret, kind, scoped, content_hash), None


def answer(sid: str, receipt: str, code: str, lang: str):
    status_url = f"{services().base_uri}/api/v1/receipts/{receipt}"
    # Through the schema the OpenAPI document is made from, so the two cannot drift (about 4 µs a post).
    body = json.dumps(_ACCEPTED.dump({"id": sid, "receipt": receipt, "feedback_code": code, "status": "received",
                                      "status_url": status_url}))
    return Accepted(body, status_url, "en" if lang == "en" else "zh-CN")


class Accepted(Response):
    """A 202 pointing at its receipt's status.

    Its Location, the base URL (made a URI once) and a receipt in base32, is an absolute URI already:
    werkzeug would parse, re-quote and re-join every answer's Location from the request otherwise.
    """

    def __init__(self, body: str, status_url: str, language: str):
        super().__init__(body, 202, {"Content-Language": language}, mimetype="application/json")
        self.status_url = status_url

    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        headers["Location"] = self.status_url
        return headers


def parse_body(schema) -> dict:
    mimetype = request.mimetype
    if mimetype in JSON_TYPES:
        raw = request.get_data(cache=True)
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise Problem(400, "malformed-body", ("请求内容不是有效的 UTF-8 文本。", "The body is not valid UTF-8."))
        except (ValueError, RecursionError):
            raise Problem(400, "malformed-body", ("请求内容不是有效的 JSON。", "The body is not valid JSON."))
        if not isinstance(body, dict):
            raise Problem(400, "malformed-body", ("请求内容必须是一个 JSON 对象。", "The body must be a JSON object."))
        return body
    if mimetype in FORM_TYPES:
        return unflatten(request.form, schema)
    if mimetype in MULTIPART_TYPES and "photos" in schema.fields:
        return _with_photos(schema)
    raise Problem(415, "unsupported-media-type", (
        "请以 application/json 或 application/x-www-form-urlencoded 提交。",
        "Send application/json or application/x-www-form-urlencoded."),
        headers={"Accept-Post": "application/json, application/x-www-form-urlencoded"})


def _with_photos(schema) -> dict:
    from functions.attachments import MULTIPART_SLACK, store_form_photos

    settings = services().settings
    # Only this path takes photos in the body; every other post keeps the small limit.
    photos = MAX_FORM_PHOTOS * settings.attachments_max_bytes
    request.max_content_length = settings.max_body_bytes + MULTIPART_SLACK + photos
    body = unflatten(request.form, schema)
    # A patrol's finding fixed on the spot has photos after the fix too (schemas/hazard.py).
    for name in [name for name in ("photos", "after_photos") if name in schema.fields]:
        files = request.files.getlist(name)[:MAX_FORM_PHOTOS + 1]
        keys = store_form_photos(files, request.form.get("client_ref"), name)
        if keys:
            given = body.get(name, [])
            body[name] = given + [key for key in keys if key not in given]
    return body


def unflatten(form: MultiDict, schema) -> dict:
    """HTML form fields (`location.address`, repeated `photos`) to the nested shape the schema expects.

    Empty inputs are left out: a form sends every field, filled or not.
    """
    result: dict = {}
    for name in form.keys():
        values = [v for v in form.getlist(name) if v.strip() != ""]
        if not values:
            continue
        path = name.split(".")
        field = _field_at(schema, path)
        value = values if _is_list(field) else values[-1]
        target = result
        for part in path[:-1]:
            existing = target.setdefault(part, {})
            if not isinstance(existing, dict):
                raise Problem(400, "malformed-body", ("表单字段名冲突。", f"Conflicting form field {name!r}."))
            target = existing
        if isinstance(target.get(path[-1]), dict):
            raise Problem(400, "malformed-body", ("表单字段名冲突。", f"Conflicting form field {name!r}."))
        target[path[-1]] = value
    return result


def _field_at(schema, path):
    field = None
    for part in path:
        declared = getattr(schema, "fields", {}) if schema is not None else {}
        field = declared.get(part)
        schema = getattr(field, "schema", None) if field is not None else None
    return field


def _is_list(field) -> bool:
    return isinstance(field, fields.List)


def idempotency_key(data: dict) -> str | None:
    header = request.headers.get("Idempotency-Key")
    if header is None:
        return data.get("client_ref")
    header = header.strip().strip('"')
    if not (1 <= len(header) <= 128) or not header.isprintable() or not header.isascii():
        raise Problem(400, "bad-idempotency-key", (
            "Idempotency-Key 须为 1–128 个可打印 ASCII 字符。", "Idempotency-Key must be 1–128 printable ASCII characters."))
    return header

