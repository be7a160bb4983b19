"""核查: a patrol volunteer's check, on a later round, of a hazard staff resolved — fixed or not, with a photo."""

from __future__ import annotations

from typing import Any, Iterable

from marshmallow import ValidationError, validates, validates_schema

from . import messages as m
from .common import StrictSchema, UUIDString
from .fields import AttachmentKey, Boolean, Code, List, Text, at_most, unique
from .hazard import MAX_PHOTOS


class CheckSchema(StrictSchema):
    """POST /api/v1/checks/<receipt>: who checked, on which round, what they found, and the photo."""

    client_ref = UUIDString()
    volunteer_id = Code(r"[A-Za-z0-9-]{1,32}", required=True, error=m.INVALID_CODE.format(max=32, symbols="-"))
    round = Code(r"[A-Za-z0-9-]{1,36}", required=True, error=m.INVALID_CODE.format(max=36, symbols="-"))
    fixed = Boolean(required=True)
    team = Text(50)  # without a roster, the team the patrol form carries; with one, the roster's counts
    photos = List(AttachmentKey(), validate=[at_most(MAX_PHOTOS), unique])
    note = Text(500, multiline=True)

    def __init__(self, *, volunteers: Iterable[str] | None = None, issued_key=None, **kwargs: Any):
        """`volunteers`: the roster's active ids, or None (no roster) to accept any id; `issued_key` as for
        the forms."""
        super().__init__(**kwargs)
        self.volunteers = frozenset(volunteers) if volunteers is not None else None
        self.issued_key = issued_key

    @validates("photos")
    def _issued_photos(self, keys: list[str], data_key: str) -> None:
        if self.issued_key is None:
            return
        forged = {i: [m.FORGED_ATTACHMENT_KEY] for i, key in enumerate(keys) if not self.issued_key(key)}
        if forged:
            raise ValidationError(forged)

    @validates_schema(skip_on_field_errors=False)
    def _with_a_photo(self, data: dict, **kwargs: Any) -> None:
        if not data.get("photos"):
            raise ValidationError(m.CHECK_PHOTO_REQUIRED, "photos")

    @validates_schema
    def _on_the_roster(self, data: dict, **kwargs: Any) -> None:
        volunteer = data.get("volunteer_id")
        if self.volunteers is not None and volunteer is not None and volunteer not in self.volunteers:
            raise ValidationError(m.UNKNOWN_VOLUNTEER, "volunteer_id")
