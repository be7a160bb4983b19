"""Photo uploads: an upload target for one photo, and the embedded store's direct upload endpoint."""

from __future__ import annotations

import hashlib

from flask import Blueprint, g, jsonify, request
from marshmallow import ValidationError

from functions.services import services
from functions.problems import Problem, pick_lang
from minqing.attachments.base import issue_key
from schemas.choices import CONTENT_TYPES
from schemas import errors_by_path
from schemas import messages as m
from schemas.attachment import AttachmentRequestSchema
from schemas.responses import AttachmentTarget

blueprint = Blueprint("attachments", __name__)

REFUSALS = {
    "bad-upload-signature": (403, ("上传凭证无效。", "The upload fields are not valid.")),
    "upload-expired": (403, ("上传凭证已过期，请重新选择照片。", "The upload target has expired; request a new one.")),
}
# Room for the form fields around the file in a multipart body.
MULTIPART_SLACK = 64 * 1024


@blueprint.post("/api/v1/attachments")
def upload_target():
    svc = services()
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    if not isinstance(body, dict):
        raise Problem(400, "malformed-body", ("请求内容必须是一个 JSON 对象。", "The body must be a JSON object."))
    try:
        wanted = AttachmentRequestSchema().load(body)
    except ValidationError as error:
        raise Problem(422, "validation-error", errors=errors_by_path(error.messages, pick_lang()))
    key = issue_key(svc.settings.secret_key)
    target = svc.attachments.upload_target(key, wanted["content_type"])
    response = jsonify(AttachmentTarget().dump({
        "key": key, "upload": target, "max_bytes": svc.settings.attachments_max_bytes,
        "expires_in": svc.settings.attachments_expiry_seconds}))
    response.status_code = 201
    return response


@blueprint.post("/api/v1/attachments/upload")
def upload():
    """The embedded store's stand-in for an S3 POST: the signed fields, then the photo as `file`."""
    from minqing.attachments.files import FileStore, UploadRefused

    svc = services()
    store = svc.attachments
    if not isinstance(store, FileStore):
        raise Problem(404, "not-found")
    request.max_content_length = svc.settings.attachments_max_bytes + MULTIPART_SLACK
    try:
        key, content_type = store.check_upload(request.form)
    except UploadRefused as refused:
        status, detail = REFUSALS[refused.slug]
        raise Problem(status, refused.slug, detail)
    upload = request.files.get("file")
    if upload is None:
        raise Problem(422, "validation-error", errors={"file": [_text(m.REQUIRED)]})
    data = upload.read(svc.settings.attachments_max_bytes + 1)
    _check_photo_bytes(data, "file")
    store.put(key, data, content_type)
    return "", 204


def store_form_photos(files, client_ref: str | None, field: str = "photos") -> list[str]:
    """Store the photos of a form posted without JavaScript; their keys, in order.

    Keys derive from the form's `client_ref` and the photo's bytes, so a resent form names the same keys and
    keeps its receipt. The keys are left in `g.form_photos[field]` for a form shown again after an error (each as
    soon as it is stored, so a later photo's error does not lose the earlier ones), and those this post
    wrote in `g.new_form_photos` for `discard_new_form_photos`.
    """
    svc = services()
    keys = g.setdefault("form_photos", {}).setdefault(field, [])
    written = g.setdefault("new_form_photos", [])
    for upload in files:
        data = upload.read(svc.settings.attachments_max_bytes + 1)
        if not data and not upload.filename:
            continue  # a file input left empty
        content_type = _check_photo_bytes(data, field)
        seed = f"{client_ref}\x00{hashlib.sha256(data).hexdigest()}" if client_ref else None
        key = issue_key(svc.settings.secret_key, seed)
        # A resent form's photo may be there already, under the same key with the same bytes: leave it, and
        # it is not this post's to discard (it may be an earlier accepted submission's).
        if seed is None or not svc.attachments.exists(key):
            svc.attachments.put(key, data, content_type)
            written.append(key)
        keys.append(key)
    return keys


def discard_new_form_photos() -> None:
    """Remove the photos this post stored: its answer was an error, and no form keeps their keys."""
    store = services().attachments
    for key in g.pop("new_form_photos", ()):
        store.delete(key)


def _check_photo_bytes(data: bytes, field: str) -> str:
    from minqing.attachments.images import read_header

    settings = services().settings
    limit = settings.attachments_max_bytes
    if len(data) > limit:
        raise Problem(413, "photo-too-large", errors={field: [_text(m.PHOTO_TOO_LARGE.format(max=limit // 2**20))]})
    header = read_header(data, settings.attachments_max_pixels)
    if header.content_type not in CONTENT_TYPES:
        raise Problem(415, "unsupported-photo-type", errors={field: [_text(m.PHOTO_WRONG_TYPE)]})
    if header.too_many_pixels(settings.attachments_max_pixels):
        # Refused by the header: the bytes are small, what they decode to is not (an image bomb).
        most = settings.attachments_max_pixels // 1_000_000
        raise Problem(422, "photo-too-many-pixels", errors={field: [_text(m.PHOTO_TOO_MANY_PIXELS.format(max=most))]})
    return header.content_type


def _text(message: m.Msg) -> str:
    return m.localize(message, pick_lang())


