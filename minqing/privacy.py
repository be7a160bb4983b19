"""Masking personal data wherever it is shown to people who need not see it (logs, public pages, groups)."""

from __future__ import annotations

import re

# Residents write numbers every which way: `138 7123 4567`, `+86 138-7123-4567`, `(027)88881234`, in
# full-width digits from a Chinese IME. The patterns read a folded copy of the text (full-width forms as
# ASCII, one character for one, so positions agree) and the masks go into the text as it was typed.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_GAP = r"[ \-]?"  # between groups of digits: one space or hyphen, or none
_COUNTRY = r"(?:\(\+?86\)|\+86|0086|86)[ \-]?"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"  # 010 and 02x have three digits with the leading 0, the rest four
_LOCAL = rf"[2-9][0-9]{{2,3}}{_GAP}[0-9]{{4}}"  # seven or eight digits, never starting with 0 or 1
_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
# Tried in this order at each place: a resident ID (its birth date keeps a USCC or a receipt out), a
# mobile, a landline. Never next to another digit, nor before letters and a digit (the rest of a code
# such as the USCC 91420106MA49A1B2C0), nor right after a letter and a hyphen (the rest of a code such as
# V-0317, whose digits and a date after them would read as a landline), so dates, amounts and codes stay.
_NUMBERS = re.compile(
    rf"(?<![0-9])(?<![A-Za-z]-)(?:"
    rf"(?P<id>[1-8][0-9]{{5}}{_GAP}(?:18|19|20)[0-9]{{2}}{_DAY}{_GAP}[0-9]{{3}}[0-9Xx]"  # 18 characters
    rf"|[1-8][0-9]{{5}}[0-9]{{2}}{_DAY}[0-9]{{3}})"  # before 1999: 15 digits
    rf"|(?P<mobile_country>{_COUNTRY})?(?P<mobile>1[3-9][0-9]{_GAP}[0-9]{{4}}{_GAP}[0-9]{{4}})"
    rf"|(?P<area>{_COUNTRY}\(?0?{_AREA}\)?|\(0{_AREA}\)|0{_AREA}){_GAP}(?P<local>{_LOCAL})"
    rf")(?![0-9]|[A-Za-z]+[0-9])"
)


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


def mask_email(address: str | None) -> str:
    """wang.ayi@example.com → w***@example.com: the provider stays, the person does not."""
    if not address or "@" not in address:
        return ""
    local, domain = address.rsplit("@", 1)
    return f"{local[0]}***@{domain}"


def mask_personal_numbers_in(text: str) -> str:
    """Free text with the phone and resident ID numbers in it masked, and nothing else changed: a mobile
    keeps its first three and last four digits, a landline its area code and last four, an ID its first
    and last character (138****4567, 027-****1234, 4****************X)."""
    folded = text.translate(_FOLD)
    hidden: list[int] = []
    for found in _NUMBERS.finditer(folded):
        if found["id"]:
            digits = _digit_positions(folded, *found.span("id"))
            hidden += digits[1:-1]
        elif found["mobile"]:
            hidden += _digit_positions(folded, *found.span("mobile"))[3:7]
        else:
            hidden += _digit_positions(folded, *found.span("local"))[:-4]
    if not hidden:
        return text
    masked = list(text)
    for position in hidden:
        masked[position] = "*"
    return "".join(masked)


def _digit_positions(folded: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if folded[i] in "0123456789Xx"]


_FIRST_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十百]+\s*(号|栋|幢|单元|楼|层|室|门|弄|巷|号楼|#|-)|[0-9０-９]")


def coarse_place(address: str | None, limit: int = 20) -> str:
    """A place for the public list with no door, building or room numbers: 千家街省一保小区3栋北侧 → 千家街省一保小区."""
    if not address:
        return ""
    cut = _FIRST_NUMBER.search(address)
    place = (address[:cut.start()] if cut else address).rstrip(" ,，、-—()（")
    return mask_personal_numbers_in(place)[:limit]
