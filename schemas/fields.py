"""Reusable fields for the forms' domain values, each carrying its own zh/en error messages."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from marshmallow import ValidationError, fields, missing, validate

from . import messages as m
from .choices import Label

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991, so a fixed offset is exact
LATITUDE_BOUNDS = (3.8, 53.6)
LONGITUDE_BOUNDS = (73.4, 135.1)
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # C0, DEL, C1 and lone surrogates
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
# Area codes are 010 and 02x, or 0 plus three digits; that is what makes an unhyphenated number unambiguous.
_LANDLINE = re.compile(r"(0(?:10|2[0-9]|[3-9][0-9]{2}))-?([2-9][0-9]{6,7})(?:-([0-9]{1,6}))?")
_ATTACHMENT_KEY = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,127}"


def now() -> datetime:
    """The present, looked up on every call so that tests can pin it."""
    return datetime.now(timezone.utc)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a USCC."""
    total = sum(USCC_CHARSET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - total % 31) % 31]


def between(minimum: float, maximum: float) -> validate.Range:
    return validate.Range(minimum, maximum, error=m.OUT_OF_RANGE)


def at_most(count: int) -> validate.Length:
    return validate.Length(max=count, error=m.TOO_MANY_ITEMS)


def unique(items: list) -> None:
    if len(set(items)) != len(items):
        raise ValidationError(m.DUPLICATE_ITEMS)


def _nfkc(value: str) -> str:
    # Chinese input methods often type full-width digits and hyphens (１３８－…).
    return unicodedata.normalize("NFKC", value).strip()


class _Bilingual:
    """Mixed in first, so these messages replace marshmallow's English-only ones."""

    default_error_messages = {"required": m.REQUIRED, "null": m.NULL, "validator_failed": m.INVALID_VALUE}


class _StringInput(_Bilingual, fields.String):
    default_error_messages = {"invalid": m.NOT_STRING, "invalid_utf8": m.NOT_STRING}

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return self._clean(value)

    def _clean(self, value: str) -> str:
        return value.strip()


class Text(_StringInput):
    """Free text: NFC-normalised, trimmed, no control characters, at most `max_length` characters."""

    default_error_messages = {"too_long": m.TOO_LONG, "forbidden": m.FORBIDDEN_CHARACTERS}

    def __init__(self, max_length: int, *, multiline: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline

    def deserialize(self, value: Any, attr=None, data=None, **kwargs: Any):
        # An empty form box means "not answered": required fields say so, optional ones are left out.
        if isinstance(value, str) and not value.strip():
            value = missing
        return super().deserialize(value, attr, data, **kwargs)

    def _clean(self, value: str) -> str:
        text = unicodedata.normalize("NFC", value)
        if self.multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")  # browsers send textarea breaks as CRLF
        text = text.strip()
        if (_CONTROL_MULTILINE if self.multiline else _CONTROL).search(text):
            raise self.make_error("forbidden")
        if len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        return text


class Code(_StringInput):
    """A short identifier that must match `pattern` exactly."""

    def __init__(self, pattern: str, *, error: m.Msg, **kwargs: Any):
        super().__init__(**kwargs)
        self.pattern = re.compile(pattern)
        self.error_messages["mismatch"] = error

    def _clean(self, value: str) -> str:
        code = value.strip()
        if not self.pattern.fullmatch(code):
            raise self.make_error("mismatch")
        return code


class AttachmentKey(Code):
    """The storage key of an uploaded file; never a path that climbs out of its folder."""

    def __init__(self, **kwargs: Any):
        super().__init__(_ATTACHMENT_KEY, error=m.INVALID_ATTACHMENT_KEY, **kwargs)

    def _clean(self, value: str) -> str:
        key = super()._clean(value)
        if ".." in key.split("/"):
            raise self.make_error("mismatch")
        return key


class Choice(_StringInput):
    """A code from one of the `choices` vocabularies."""

    def __init__(self, labels: Mapping[str, Label], **kwargs: Any):
        super().__init__(**kwargs)
        self.labels = labels
        allowed = m.Msg(", ".join(labels), zh="、".join(f"{code}（{label.zh}）" for code, label in labels.items()))
        self.error_messages["invalid_choice"] = m.NOT_ONE_OF.format(choices=allowed)

    def _clean(self, value: str) -> str:
        code = value.strip()
        if code not in self.labels:
            raise self.make_error("invalid_choice")
        return code


class MobilePhone(_StringInput):
    """A mainland mobile number, returned as its 11 digits."""

    default_error_messages = {"invalid_phone": m.INVALID_MOBILE}

    def _clean(self, value: str) -> str:
        mobile = _MOBILE.fullmatch(re.sub(r"[\s-]", "", _nfkc(value)))
        if mobile is None:
            raise self.make_error("invalid_phone")
        return mobile.group(1)


_EMAIL = re.compile(r"[^@\s<>\"(),;:]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


class Email(_StringInput):
    """An e-mail address to send a reporter's updates to (kept verbatim, lower-cased domain)."""

    default_error_messages = {"invalid_email": m.INVALID_EMAIL}

    def _clean(self, value: str) -> str:
        address = _nfkc(value).strip()
        if len(address) > 254 or _EMAIL.fullmatch(address) is None:
            raise self.make_error("invalid_email")
        local, domain = address.rsplit("@", 1)
        return f"{local}@{domain.lower()}"


class Phone(MobilePhone):
    """A mobile number (11 digits) or a landline (`027-88881234`, optionally `-123` extension)."""

    default_error_messages = {"invalid_phone": m.INVALID_PHONE}

    def _clean(self, value: str) -> str:
        try:
            return super()._clean(value)
        except ValidationError:
            landline = _LANDLINE.fullmatch(re.sub(r"\s", "", _nfkc(value)))
            if landline is None:
                raise
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")


class USCC(_StringInput):
    """统一社会信用代码: the 18-character Unified Social Credit Code of GB 32100-2015."""

    default_error_messages = {
        "length": m.USCC_LENGTH,
        "characters": m.USCC_CHARACTERS,
        "division": m.USCC_DIVISION,
        "check": m.USCC_CHECK,
    }

    def _clean(self, value: str) -> str:
        code = _nfkc(value).upper()
        if len(code) != 18:
            raise self.make_error("length")
        if any(char not in USCC_CHARSET for char in code):
            raise self.make_error("characters")
        if not code[2:8].isdigit():
            raise self.make_error("division")
        if code[17] != uscc_check_char(code[:17]):
            raise self.make_error("check")
        return code


class Integer(_Bilingual, fields.Integer):
    default_error_messages = {"invalid": m.NOT_INTEGER, "too_large": m.NUMBER_TOO_LARGE}

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")  # int() would silently truncate 2.5 to 2
        return super()._validated(value)


class Float(_Bilingual, fields.Float):
    """A finite number; NaN and infinity are refused."""

    default_error_messages = {"invalid": m.NOT_NUMBER, "too_large": m.NUMBER_TOO_LARGE, "special": m.NOT_FINITE}


class Latitude(Float):
    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.Range(*LATITUDE_BOUNDS, error=m.OUTSIDE_CHINA), **kwargs)


class Longitude(Float):
    def __init__(self, **kwargs: Any):
        super().__init__(validate=validate.Range(*LONGITUDE_BOUNDS, error=m.OUTSIDE_CHINA), **kwargs)


class Boolean(_Bilingual, fields.Boolean):
    default_error_messages = {"invalid": m.NOT_BOOLEAN}


class List(_Bilingual, fields.List):
    default_error_messages = {"invalid": m.NOT_LIST}


class Nested(_Bilingual, fields.Nested):
    default_error_messages = {"type": m.NOT_LIST}


class UUIDString(_Bilingual, fields.UUID):
    """A UUID in any spelling `uuid.UUID` accepts, returned as its canonical lower-case string."""

    default_error_messages = {"invalid_uuid": m.NOT_UUID}

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs))


class PastDateTime(_Bilingual, fields.Field):
    """An ISO 8601 moment in the recent past, returned as an ISO string in Beijing time.

    A naive time means Beijing time; a few minutes in the future are tolerated for drifting phone clocks.
    """

    default_error_messages = {
        "invalid": m.INVALID_DATETIME,
        "future": m.DATETIME_IN_FUTURE,
        "too_old": m.DATETIME_TOO_OLD,
    }
    tolerance = timedelta(minutes=5)

    def __init__(self, max_age_days: int = 366, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_age = timedelta(days=max_age_days)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        # A bare date (at most 10 characters, e.g. 2026-11-20) is not a moment.
        if not isinstance(value, str) or len(value.strip()) <= 10:
            raise self.make_error("invalid")
        try:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=BEIJING)
            moment = moment.astimezone(BEIJING)
        except (ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error
        present = now()
        if moment > present + self.tolerance:
            raise self.make_error("future")
        if moment < present - self.max_age:
            raise self.make_error("too_old", days=self.max_age.days)
        return moment.isoformat()


class Date(_Bilingual, fields.Date):
    """A calendar day, YYYY-MM-DD."""

    default_error_messages = {"invalid": m.INVALID_DATE, "format": m.INVALID_DATE}


class Url(_Bilingual, fields.Url):
    """An http(s) address, e.g. a photo hosted elsewhere (Open311's media_url)."""

    default_error_messages = {"invalid": m.INVALID_URL}

    def __init__(self, **kwargs: Any):
        super().__init__(schemes={"http", "https"}, validate=validate.Length(max=500, error=m.TOO_LONG), **kwargs)
