"""What every form shares: strict schemas, the submission envelope, community codes and contacts."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from marshmallow import RAISE, Schema, ValidationError, missing, validates, validates_schema

from . import messages as m
from .choices import LANGUAGES
from .fields import Boolean, Choice, Code, Email, MobilePhone, Text, UUIDString

COMMUNITY_PATTERN = r"[a-z0-9_-]{1,32}"


class StrictSchema(Schema):
    """Refuses fields it does not declare, so a client cannot set `status` or `assignee` itself."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": m.UNKNOWN_FIELD, "type": m.NOT_AN_OBJECT}


class SubmissionSchema(StrictSchema):
    """Base of the three forms; `communities` is the set of known codes, or None to accept any well-formed one.

    `issued_key` tells whether an attachment key was issued by this service (None: any well-formed key).
    """

    client_ref = UUIDString()
    lang = Choice(LANGUAGES)

    def __init__(self, *, communities: Iterable[str] | None = None,
                 issued_key: Callable[[str], bool] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.communities = frozenset(communities) if communities is not None else None
        self.issued_key = issued_key

    @validates("community")
    def _known_community(self, value: str, data_key: str) -> None:
        if self.communities is not None and value not in self.communities:
            raise ValidationError(m.UNKNOWN_COMMUNITY)


def community_field(**kwargs: Any) -> Code:
    return Code(COMMUNITY_PATTERN, error=m.INVALID_COMMUNITY_CODE, **kwargs)


def description_field() -> Text:
    return Text(2000, multiline=True, required=True)


class NotifyMixin:
    """"Tell me when it is handled": an opt-in, sent to the contact's own e-mail or mobile (never masked)."""

    email = Email(metadata={"description": "where to send the updates, if `notify`"})
    notify = Boolean(metadata={"description": "tell the reporter (SMS or e-mail) on acknowledge, resolve, reject"})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _notify_needs_a_contact(self, data: dict, original: Any, **kwargs: Any) -> None:
        if data.get("notify") and not (present("phone", original) or present("email", original)):
            raise ValidationError(m.NOTIFY_NEEDS_CONTACT, "notify")


class PersonSchema(NotifyMixin, StrictSchema):
    """A resident's name and mobile; which of them are required is the form's rule."""

    name = Text(50)
    phone = MobilePhone()


def absent(name: str, data: Mapping, original: Any) -> bool:
    """True when the client left `name` out or blank. A bad value is not absent: its field reported it."""
    if name in data or not isinstance(original, Mapping):
        return False
    return _blank(original.get(name, missing))


def present(name: str, original: Any) -> bool:
    """True when the client filled `name` in, valid or not."""
    return isinstance(original, Mapping) and not _blank(original.get(name, missing))


def _blank(given: Any) -> bool:
    return given is missing or (isinstance(given, str) and not given.strip())
