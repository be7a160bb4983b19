"""咨询服务: a resident's request for a community service, or a record of a service that was held."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from . import messages as m
from .choices import CONSULTATION_MODES, SERVICES
from .common import PersonSchema, SubmissionSchema, absent, community_field, description_field, present
from .fields import Choice, Float, Integer, Nested, PastDateTime, Text, between

# Fields that belong to one mode only; the other mode must leave them out.
REQUEST_FIELDS = ("preferred_time",)
REPORT_FIELDS = ("provider", "held_at", "beneficiaries", "hours")


class ConsultationSchema(SubmissionSchema):
    """mode=request: a resident asks for a service. mode=report: a provider records one that took place."""

    mode = Choice(CONSULTATION_MODES, required=True)
    service = Choice(SERVICES, required=True)
    community = community_field(required=True)
    description = description_field()
    contact = Nested(PersonSchema)
    preferred_time = Text(100)
    provider = Text(100)
    held_at = PastDateTime()
    beneficiaries = Integer(validate=between(0, 10_000))
    hours = Float(validate=between(0, 1_000))

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _fields_of_mode(self, data: dict, original: Any, **kwargs: Any) -> None:
        mode = data.get("mode")
        if mode is None:
            return  # the mode itself was refused; its error says enough
        label = m.Msg(f'"{mode}"', zh=f"“{CONSULTATION_MODES[mode].zh}”")
        required, forbidden = (REPORT_FIELDS, REQUEST_FIELDS) if mode == "report" else ((), REPORT_FIELDS)
        errors: dict[str, Any] = {}
        for name in required:
            if absent(name, data, original):
                errors[name] = [m.REQUIRED_FOR_MODE.format(mode=label)]
        for name in forbidden:
            if present(name, original):
                errors[name] = [m.NOT_ALLOWED_FOR_MODE.format(mode=label)]
        if mode == "request":
            contact_errors = _contact_errors(data, original, label)
            if contact_errors:
                errors["contact"] = contact_errors
        if errors:
            raise ValidationError(errors)


def _contact_errors(data: dict, original: Any, label: m.Msg) -> list | dict:
    """A request needs someone to call back: contact with both name and phone."""
    if absent("contact", data, original):
        return [m.REQUIRED_FOR_MODE.format(mode=label)]
    if "contact" not in data:
        return {}
    given = original["contact"]
    return {
        name: [m.REQUIRED_FOR_MODE.format(mode=label)]
        for name in ("name", "phone")
        if absent(name, data["contact"], given)
    }
