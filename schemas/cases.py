"""What staff send to work their cases, and what residents send to judge the outcome (效果共评)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from . import messages as m
from .choices import (
    CASE_ACTIONS,
    CASE_SORTS,
    CASE_STATUSES,
    ENTERPRISE_CATEGORIES,
    ENTERPRISE_OUTCOMES,
    HAZARD_CATEGORIES,
    KINDS,
    LANGUAGES,
    REJECT_REASONS,
    SERVICES,
)
from .common import StrictSchema, community_field, present
from .fields import (
    AttachmentKey,
    Boolean,
    Choice,
    Code,
    Date,
    Float,
    Integer,
    List,
    Text,
    at_most,
    between,
    unique,
)

ALL_CATEGORIES = {**HAZARD_CATEGORIES, **SERVICES, **ENTERPRISE_CATEGORIES}
STAFF_ID = r"[a-z0-9][a-z0-9_-]{0,39}"
MAX_PAGE = 200


class CaseFilterSchema(StrictSchema):
    """The query of `GET /api/v1/cases` and of the exports."""

    kind = Choice(KINDS)
    status = Choice(CASE_STATUSES)
    community = community_field()
    category = Choice(ALL_CATEGORIES)
    assignee = Code(STAFF_ID, error=m.INVALID_CODE.format(max=40, symbols="_ -"))
    overdue = Boolean()
    submitted_from = Date(metadata={"description": "first day (office time, UTC+8), inclusive"})
    submitted_to = Date(metadata={"description": "last day (office time, UTC+8), inclusive"})
    q = Text(100, metadata={"description": "text in the description, the address or the receipt"})
    sort = Choice(CASE_SORTS, load_default="-submitted_at")
    cursor = Code(r"[A-Za-z0-9_=-]{1,200}", error=m.INVALID_VALUE)
    limit = Integer(validate=between(1, MAX_PAGE), load_default=50)
    lang = Choice(LANGUAGES)

    @validates_schema
    def _days_in_order(self, data: dict, **kwargs: Any) -> None:
        if data.get("submitted_from") and data.get("submitted_to") and data["submitted_from"] > data["submitted_to"]:
            raise ValidationError(m.DATE_ORDER, "submitted_from")


class CaseActionSchema(StrictSchema):
    """One step on a case: a transition, a reassignment or a note; which fields go with it depends on
    the action and on the kind of case (`kind`, `mode` given when the schema is made)."""

    action = Choice(CASE_ACTIONS, required=True)
    note = Text(2000, multiline=True)
    photos = List(AttachmentKey(), validate=[at_most(6), unique])
    reason = Choice(REJECT_REASONS)
    duplicate_of = Text(20, metadata={"description": "receipt code of the original case (reason=duplicate)"})
    assignees = List(Code(STAFF_ID, error=m.INVALID_CODE.format(max=40, symbols="_ -")),
                     validate=[at_most(5), unique])
    beneficiaries = Integer(validate=between(0, 10_000))
    hours = Float(validate=between(0, 1_000))
    outcome = Choice(ENTERPRISE_OUTCOMES)
    reply = Text(500, multiline=True, metadata={
        "description": "the office's public reply: shown on the status page and the public list, sent to the "
                       "reporter (the `note` stays internal)"})
    public = Boolean(metadata={"description": "publish: false withdraws what was published"})
    public_text = Text(2000, multiline=True, metadata={
        "description": "publish: the resident's words as the public list shows them (default: the description)"})
    public_photos = List(AttachmentKey(), validate=[at_most(6), unique], metadata={
        "description": "publish: which of the resident's photos the public list shows"})

    def __init__(self, *, kind: str | None = None, mode: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.kind, self.mode = kind, mode

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _fields_of_action(self, data: dict, original: Any, **kwargs: Any) -> None:
        action = data.get("action")
        if action is None:
            return
        required = {"note": ("note",), "assign": ("assignees",), "reject": ("reason",)}.get(action, ())
        if action == "reject" and data.get("reason") == "duplicate":
            required += ("duplicate_of",)
        # A requested service, once delivered, says whom it served; a logged session said so already.
        completes_service = action == "resolve" and self.kind == "consultation" and self.mode == "request"
        if completes_service:
            required += ("beneficiaries", "hours")
        if action == "resolve" and self.kind == "enterprise":
            required += ("outcome",)
        allowed = set(required) | {"action", "note", "photos", "reply"}
        if action == "reject":
            allowed |= {"reason", "duplicate_of"}
        if action == "publish":
            allowed |= {"public", "public_text", "public_photos"}
            if self.kind is not None and self.kind != "hazard" and not (
                    self.kind == "consultation" and self.mode == "report"):
                errors_for_kind = {"action": [m.NOT_FOR_ACTION]}
                raise ValidationError(errors_for_kind)
        errors: dict[str, list] = {}
        for name in required:
            if not present(name, original):
                errors.setdefault(name, []).append(m.REQUIRED_FOR_ACTION)
        for name in ("reason", "duplicate_of", "assignees", "beneficiaries", "hours", "outcome", "public",
                     "public_text", "public_photos"):
            if name not in allowed and present(name, original):
                errors.setdefault(name, []).append(m.NOT_FOR_ACTION)
        if errors:
            raise ValidationError(errors)


class FeedbackSchema(StrictSchema):
    """A resident's judgement of a resolved case, given once."""

    rating = Integer(required=True, validate=between(1, 5))
    fixed = Boolean(required=True, metadata={"description": "false reopens the case"})
    comment = Text(500, multiline=True)
    lang = Choice(LANGUAGES)
    feedback_code = Text(32, metadata={
        "description": "the reporter's feedback code (评价码), from the 202 or the thank-you page; without the "
                       "right one the answer is 403 and nothing changes"})
