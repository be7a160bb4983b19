"""The shapes minqing answers with. The HTTP functions dump through them, and the OpenAPI document is
generated from them, so the documentation cannot drift from the answers."""

from __future__ import annotations

from marshmallow import Schema, fields

from .choices import CASE_ACTIONS, CASE_STATUSES, KINDS


def _enum(labels) -> dict:
    return {"enum": list(labels)}


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "messages by field path (dotted), in the answer's language"})
    allowed = fields.List(fields.String(), metadata={"description": "actions allowed from the current status (409)"})
    current_status = fields.String(metadata={"description": "the case's current status (409)"})


class Accepted(Schema):
    id = fields.String(required=True)
    receipt = fields.String(required=True, metadata={"description": "reads the public status, nothing more"})
    feedback_code = fields.String(required=True, metadata={
        "description": "the reporter's private code (评价码) for rating the outcome; given only here and on the "
                       "thank-you page: keep it, and do not show it to others"})
    status = fields.String(required=True)
    status_url = fields.String(required=True)


class UploadTarget(Schema):
    """Shaped like an S3 presigned POST: send `fields` as multipart form fields, then the photo as `file`."""

    method = fields.String(required=True, metadata=_enum(["POST"]))
    url = fields.String(required=True)
    form_fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True, data_key="fields",
                              attribute="fields")


class AttachmentTarget(Schema):
    key = fields.String(required=True, metadata={"description": "name this key in the form's `photos`"})
    upload = fields.Nested(UploadTarget, required=True)
    max_bytes = fields.Integer(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": "seconds the upload target is valid"})


class CaseRef(Schema):
    id = fields.String(required=True)
    receipt = fields.String(required=True)
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))


class LikelyDuplicate(CaseRef):
    distance_m = fields.Float(required=True)
    submitted_at = fields.String(required=True)


class CaseSummary(Schema):
    id = fields.String(required=True)
    receipt = fields.String(required=True)
    kind = fields.String(required=True, metadata=_enum(KINDS))
    community = fields.String(required=True, allow_none=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))
    submitted_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    due_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "the deadline from the directory's SLA, fixed when the case was stored; null for a "
                       "team's record of a session it held, which nobody has to act on"})
    overdue = fields.Boolean(required=True)
    assignees = fields.List(fields.String(), required=True)
    duplicate_of = fields.String(required=True, allow_none=True)


class CaseList(Schema):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "pass as `cursor` for the next page; null on the last"})


class HistoryEntry(Schema):
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))
    action = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    note = fields.String(required=True)
    photos = fields.List(fields.String(), required=True)
    details = fields.Dict(required=True)


class FeedbackGiven(Schema):
    rating = fields.Integer(required=True)
    fixed = fields.Boolean(required=True)
    comment = fields.String(required=True)
    at = fields.DateTime(required=True)


class CaseDetail(CaseSummary):
    payload = fields.Dict(required=True, metadata={
        "description": "the form as submitted; names and phones masked unless `personal_data` is true"})
    personal_data = fields.Boolean(required=True)
    outcome = fields.Dict(required=True, allow_none=True)
    history = fields.List(fields.Nested(HistoryEntry), required=True)
    allowed_actions = fields.List(fields.String(metadata=_enum(CASE_ACTIONS)), required=True)
    original = fields.Nested(CaseRef, required=True, allow_none=True)
    duplicates = fields.List(fields.Nested(CaseRef), required=True)
    likely_duplicates = fields.List(fields.Nested(LikelyDuplicate), required=True)
    feedback = fields.Nested(FeedbackGiven, required=True, allow_none=True)


class FeedbackAccepted(Schema):
    receipt = fields.String(required=True)
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))


class CheckRecorded(Schema):
    """A volunteer's check (核查), as recorded: 201 the first time, 200 for the same check sent again."""

    receipt = fields.String(required=True)
    check = fields.String(required=True, metadata={"enum": ["fixed", "not_fixed"]})
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))
    already_recorded = fields.Boolean(required=True)


class ReceiptHistory(Schema):
    status = fields.String(required=True)
    at = fields.String(required=True)


class OriginalStatus(Schema):
    receipt = fields.String(required=True)
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))


class ReceiptStatus(Schema):
    receipt = fields.String(required=True)
    kind = fields.String(required=True, metadata=_enum(KINDS))
    community = fields.String(allow_none=True)
    category = fields.String()
    status = fields.String(required=True, metadata=_enum(CASE_STATUSES))
    submitted_at = fields.String(required=True, allow_none=True)
    updated_at = fields.String(required=True, allow_none=True)
    history = fields.List(fields.Nested(ReceiptHistory), required=True)
    duplicate_of = fields.Nested(OriginalStatus, allow_none=True,
                                 metadata={"description": "the original case, when this one was a duplicate"})
    feedback_open = fields.Boolean(metadata={"description": "true while the resident may rate the outcome"})
