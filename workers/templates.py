"""Notification texts, zh-CN and English, one per kind × event; short enough for an SMS."""

from __future__ import annotations

from dataclasses import dataclass

from minqing.privacy import mask_name, mask_phone, mask_phones_in
from schemas.choices import (
    ENTERPRISE_CATEGORIES,
    HAZARD_CATEGORIES,
    KINDS,
    SERVICES,
    SEVERITIES,
    URGENCIES,
)

EXCERPT = 60

SUBJECTS = {
    ("received", "zh"): "【民情】新{kind} {receipt}",
    ("received", "en"): "[minqing] New {kind} {receipt}",
}
BODIES = {
    ("received", "zh"): "{where}·{category}{priority}：{excerpt}{place}{contact}",
    ("received", "en"): "{where} · {category}{priority}: {excerpt}{place}{contact}",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _label(labels, code: str, lang: str) -> str:
    label = labels.get(code)
    return "" if label is None else (label.zh if lang == "zh" else label.en)


def render(*, kind: str, event: str, receipt: str, data: dict, community_name: str, lang: str = "zh",
           masked: bool = True) -> Rendered:
    """The text of one notification. `masked` hides the resident's name and phone (group chats, logs)."""
    lang = "en" if lang.startswith("en") else "zh"
    categories = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}[kind]
    category = data.get("service") if kind == "consultation" else data.get("category")
    priority_code = data.get("severity") or data.get("urgency")
    priority = _label({**SEVERITIES, **URGENCIES}, priority_code, lang) if priority_code else ""
    if priority:
        priority = f"（{priority}）" if lang == "zh" else f" ({priority})"
    description = data.get("description", "")
    if masked:
        description = mask_phones_in(description)
    excerpt = description if len(description) <= EXCERPT else description[:EXCERPT] + "…"
    where = community_name or (data.get("enterprise") or {}).get("name", "")
    address = (data.get("location") or {}).get("address") or (data.get("enterprise") or {}).get("address")
    place = (f"（地点：{address}）" if lang == "zh" else f" (at {address})") if address else ""
    contact = data.get("contact") or {}
    name = contact.get("name", "")
    phone = contact.get("phone", "")
    if masked:
        name, phone = mask_name(name), mask_phone(phone)
    who = "，".join(p for p in (name, phone) if p) if lang == "zh" else ", ".join(p for p in (name, phone) if p)
    contact_text = (f" 联系人：{who}" if lang == "zh" else f" Contact: {who}") if who else ""
    fields = dict(
        kind=_label(KINDS, kind, lang),
        receipt=receipt,
        where=where,
        category=_label(categories, category, lang),
        priority=priority,
        excerpt=excerpt,
        place=place,
        contact=contact_text,
    )
    return Rendered(SUBJECTS[(event, lang)].format(**fields), BODIES[(event, lang)].format(**fields))
