"""Reply templates (办理回复模板): fill a template's `{placeholders}` from the case (pure)."""

from __future__ import annotations

import string


class _Kept(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays visible for the member of staff to fill in


def fill(template: str, values: dict[str, str]) -> str:
    """`template` with each known `{name}` replaced; unknown ones and stray braces are left as written."""
    try:
        return string.Formatter().vformat(template, (), _Kept(values))
    except (ValueError, IndexError, KeyError, AttributeError):
        return template
