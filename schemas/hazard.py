"""隐患上报: a resident's or a patrol's report of a hazard in the neighbourhood."""

from __future__ import annotations

from typing import Any, Iterable

from marshmallow import ValidationError, post_load, validates, validates_schema

from . import messages as m
from .choices import COORDINATE_SYSTEMS, HAZARD_CATEGORIES, SEVERITIES
from .common import PersonSchema, StrictSchema, SubmissionSchema, absent, community_field, description_field, present
from .fields import (
    AttachmentKey,
    Boolean,
    Choice,
    Code,
    Latitude,
    List,
    Longitude,
    Nested,
    PastDateTime,
    Text,
    Url,
    at_most,
    unique,
)

MAX_PHOTOS = 6


class LocationSchema(StrictSchema):
    """Where the hazard is: an address, optionally a marked spot and coordinates."""

    address = Text(200, required=True)
    spot = Code(r"[A-Za-z0-9_-]{1,40}", error=m.INVALID_CODE.format(max=40, symbols="_ -"))
    lat = Latitude()
    lon = Longitude()
    crs = Choice(COORDINATE_SYSTEMS)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _coordinates_together(self, data: dict, original: Any, **kwargs: Any) -> None:
        for name, other in (("lat", "lon"), ("lon", "lat")):
            if absent(name, data, original) and present(other, original):
                raise ValidationError(m.COORDINATES_TOGETHER, name)

    @post_load
    def _default_crs(self, data: dict, **kwargs: Any) -> dict:
        # Coordinates straight from a phone's GPS are WGS-84.
        if "lat" in data:
            data.setdefault("crs", "wgs84")
        return data


class ReporterSchema(PersonSchema):
    """How to reach the reporter, or a request to stay anonymous."""

    anonymous = Boolean(load_default=False)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _anonymous_means_unnamed(self, data: dict, original: Any, **kwargs: Any) -> None:
        if data.get("anonymous") and (any(present(f, original) for f in ("name", "phone", "email"))
                                      or data.get("notify")):
            raise ValidationError(m.ANONYMOUS_WITH_IDENTITY, "anonymous")


class PatrolSchema(StrictSchema):
    """The volunteer patrol (平安合伙人) that found the hazard."""

    team = Text(50, required=True)
    volunteer_id = Code(r"[A-Za-z0-9-]{1,32}", required=True, error=m.INVALID_CODE.format(max=32, symbols="-"))
    # A round groups a volunteer's findings: the patrol form makes one when the round starts.
    round = Code(r"[A-Za-z0-9-]{1,36}", error=m.INVALID_CODE.format(max=36, symbols="-"))


class HazardReportSchema(SubmissionSchema):
    """A hazard report: what, where, how bad, and optionally who saw it."""

    community = community_field(required=True)
    category = Choice(HAZARD_CATEGORIES, required=True)
    severity = Choice(SEVERITIES, load_default="medium")
    description = description_field()
    location = Nested(LocationSchema, required=True)
    photos = List(AttachmentKey(), validate=[at_most(MAX_PHOTOS), unique])
    media_url = Url(metadata={"description": "a photo hosted elsewhere (Open311 media_url)"})
    observed_at = PastDateTime()
    contact = Nested(ReporterSchema)
    patrol = Nested(PatrolSchema)
    # Found and fixed on the spot (当场整改): a patrol's finding only, with what was done and photos after.
    rectified_on_site = Boolean()
    rectification = Text(1000, multiline=True)
    after_photos = List(AttachmentKey(), validate=[at_most(MAX_PHOTOS), unique])

    def __init__(self, *, volunteers: Iterable[str] | None = None, **kwargs: Any):
        """`volunteers`: the active volunteer ids of the roster, or None (no roster) to accept any id."""
        super().__init__(**kwargs)
        self.volunteers = frozenset(volunteers) if volunteers is not None else None

    @validates("photos")
    def _issued_photos(self, keys: list[str], data_key: str) -> None:
        self._issued(keys)

    @validates("after_photos")
    def _issued_after_photos(self, keys: list[str], data_key: str) -> None:
        self._issued(keys)

    def _issued(self, keys: list[str]) -> None:
        if self.issued_key is None:
            return
        forged = {index: [m.FORGED_ATTACHMENT_KEY] for index, key in enumerate(keys) if not self.issued_key(key)}
        if forged:
            raise ValidationError(forged)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _fixed_on_the_spot(self, data: dict, original: Any, **kwargs: Any) -> None:
        if data.get("rectified_on_site"):
            if not present("patrol", original):
                raise ValidationError(m.RECTIFIED_NEEDS_PATROL, "rectified_on_site")
            if absent("rectification", data, original):
                raise ValidationError(m.RECTIFICATION_REQUIRED, "rectification")
            return
        for name in ("rectification", "after_photos"):
            if present(name, original):
                raise ValidationError(m.RECTIFICATION_WITHOUT_FIX, name)

    @validates_schema
    def _on_the_roster(self, data: dict, **kwargs: Any) -> None:
        volunteer = (data.get("patrol") or {}).get("volunteer_id")
        if self.volunteers is not None and volunteer is not None and volunteer not in self.volunteers:
            raise ValidationError({"patrol": {"volunteer_id": [m.UNKNOWN_VOLUNTEER]}})

    @post_load
    def _plain_when_not_fixed(self, data: dict, **kwargs: Any) -> dict:
        # A report not fixed on the spot reads as it always has: no `rectified_on_site: false` in it.
        if not data.get("rectified_on_site"):
            data.pop("rectified_on_site", None)
        return data
