"""Masking personal data wherever it is shown to people who need not see it (logs, public pages, groups)."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str:
    """13871234567 → 138****4567; landlines keep their area code and last four digits."""
    if not phone:
        return ""
    digits = phone.replace("-", "")
    if len(digits) <= 4:
        return "*" * len(digits)
    if "-" in phone:
        area, number = phone.split("-", 1)
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """王阿姨 → 王**: enough for staff to address a resident, not to identify one in a group chat."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phones_in(text: str) -> str:
    """Mask mobile numbers a resident typed into free text."""
    return _MOBILE.sub(r"\1****\2", text)
