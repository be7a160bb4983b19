"""Notification texts, zh-CN and English, one per kind × event; short enough for an SMS."""

from __future__ import annotations

from dataclasses import dataclass

from minqing.privacy import mask_name, mask_personal_numbers_in, mask_phone
from schemas.messages import language
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
    ("received", "zh-CN"): "【民情】新{kind} {receipt}",
    ("received", "en"): "[minqing] New {kind} {receipt}",
    ("escalated", "zh-CN"): "【民情】超时未受理 {kind} {receipt}",
    ("escalated", "en"): "[minqing] Not acknowledged in time: {kind} {receipt}",
    ("assigned", "zh-CN"): "【民情】转派给您 {kind} {receipt}",
    ("assigned", "en"): "[minqing] Assigned to you: {kind} {receipt}",
    ("rectified", "zh-CN"): "【民情】已当场整改 {kind} {receipt}",
    ("rectified", "en"): "[minqing] Already fixed on the spot: {kind} {receipt}",
    ("nudged", "zh-CN"): "【民情】居民催办 {kind} {receipt}",
    ("nudged", "en"): "[minqing] A resident is chasing {kind} {receipt}",
    ("rechecked", "zh-CN"): "【民情】核查未整改，已重新打开 {kind} {receipt}",
    ("rechecked", "en"): "[minqing] Not fixed on a patrol's check, reopened: {kind} {receipt}",
}
BODIES = {
    ("received", "zh-CN"): "{where}·{category}{priority}：{excerpt}{place}{contact}",
    ("received", "en"): "{where} · {category}{priority}: {excerpt}{place}{contact}",
    ("escalated", "zh-CN"): "{where}·{category}{priority}：{excerpt}{place}{contact}",
    ("escalated", "en"): "{where} · {category}{priority}: {excerpt}{place}{contact}",
    ("assigned", "zh-CN"): "{where}·{category}{priority}：{excerpt}{place}{contact}",
    ("assigned", "en"): "{where} · {category}{priority}: {excerpt}{place}{contact}",
    # 平安合伙人 fixed it on their round: for the community's information, nothing to do.
    ("rectified", "zh-CN"): "{where}·{category}：{excerpt}{place} 巡查志愿者已当场整改：{fix}（仅告知，无需处理）",
    ("rectified", "en"): "{where} · {category}: {excerpt}{place} Fixed on the spot by the patrol: {fix} "
                         "(for information, nothing to do)",
    ("nudged", "zh-CN"): "{where}·{category}{priority}：{excerpt}{place}{contact}",
    ("nudged", "en"): "{where} · {category}{priority}: {excerpt}{place}{contact}",
    # A volunteer checked staff's work on a later round (核查) and found it not fixed: back to work.
    ("rechecked", "zh-CN"): "{where}·{category}{priority}：{excerpt}{place}",
    ("rechecked", "en"): "{where} · {category}{priority}: {excerpt}{place}",
}
NOTES = {
    ("escalated", "zh-CN"): "超过时限（{limit}）仍未受理，负责人：{names}。请督办。",
    ("escalated", "en"): "Not acknowledged within {limit}; assigned to {names}. Please follow up.",
    ("fallback", "zh-CN"): "（{names}的通知渠道均未送达，转您处理）",
    ("fallback", "en"): "({names} could not be reached on any channel; passed to you)",
    ("assigned", "zh-CN"): "{names}将此件转派给您。",
    ("assigned", "en"): "{names} assigned this case to you.",
    ("nudged", "zh-CN"): "此件已超过时限，居民催办，请尽快办理。",
    ("nudged", "en"): "This case is overdue and the resident is chasing it; please act on it.",
    ("rechecked", "zh-CN"): "平安合伙人（{names}）核查时发现仍未整改，此件已重新打开，请再处理。",
    ("rechecked", "en"): "A patrol ({names}) checked and found this not fixed; the case is reopened, please act again.",
}
LIMIT_UNITS = {
    ("hours", "zh-CN"): "{n}小时", ("hours", "en"): "{n} h",
    ("days", "zh-CN"): "{n}天", ("days", "en"): "{n} days",
    ("working_days", "zh-CN"): "{n}个工作日", ("working_days", "en"): "{n} working days",
}
DIGEST = {
    "subject_zh-CN": "【民情】{day} 待办：{open}件未办结，{overdue}件超时",
    "subject_en": "[minqing] {day}: {open} open, {overdue} overdue",
    "overdue_zh-CN": "（超时）",
    "overdue_en": " (overdue)",
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _label(labels, code: str, lang: str) -> str:
    label = labels.get(code)
    return "" if label is None else (label.zh if lang == "zh-CN" else label.en)


def render(*, kind: str, event: str, receipt: str, data: dict, community_name: str, lang: str = "zh-CN",
           masked: bool = True, note: str = "") -> Rendered:
    """The text of one notification. `masked` hides the resident's name and phone (group chats, logs);
    `note` (from `note()`) goes before the body."""
    lang = language(lang)
    categories = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}[kind]
    category = data.get("service") if kind == "consultation" else data.get("category")
    priority_code = data.get("severity") or data.get("urgency")
    priority = _label({**SEVERITIES, **URGENCIES}, priority_code, lang) if priority_code else ""
    if priority:
        priority = f"（{priority}）" if lang == "zh-CN" else f" ({priority})"
    description = data.get("description", "")
    if masked:
        description = mask_personal_numbers_in(description)
    excerpt = description if len(description) <= EXCERPT else description[:EXCERPT] + "…"
    where = community_name or (data.get("enterprise") or {}).get("name", "")
    address = (data.get("location") or {}).get("address") or (data.get("enterprise") or {}).get("address")
    if masked and address:
        address = mask_personal_numbers_in(address)
    place = (f"（地点：{address}）" if lang == "zh-CN" else f" (at {address})") if address else ""
    contact = data.get("contact") or {}
    name = contact.get("name", "")
    phone = contact.get("phone", "")
    if masked:
        name, phone = mask_name(name), mask_phone(phone)
    who = "，".join(p for p in (name, phone) if p) if lang == "zh-CN" else ", ".join(p for p in (name, phone) if p)
    contact_text = (f" 联系人：{who}" if lang == "zh-CN" else f" Contact: {who}") if who else ""
    fields = dict(
        kind=_label(KINDS, kind, lang),
        receipt=receipt,
        where=where,
        category=_label(categories, category, lang),
        priority=priority,
        excerpt=excerpt,
        place=place,
        contact=contact_text,
        fix=mask_personal_numbers_in(data.get("rectification", "")) if masked else data.get("rectification", ""),
    )
    body = BODIES[(event, lang)].format(**fields)
    return Rendered(SUBJECTS[(event, lang)].format(**fields), f"{note}\n{body}" if note else body)


def note(which: str, *, names: list[str], lang: str = "zh-CN", limit=None) -> str:
    """The line saying why a message came: an overrun SLA ("escalated"), unreachable staff ("fallback") or
    a reassignment ("assigned", `names` = who reassigned it)."""
    lang = language(lang)
    limit_text = ""
    if limit is not None:
        amount = int(limit.amount) if float(limit.amount).is_integer() else limit.amount
        limit_text = LIMIT_UNITS[(limit.unit, lang)].format(n=amount)
    return NOTES[(which, lang)].format(names=("、" if lang == "zh-CN" else ", ").join(names), limit=limit_text)


def render_digest(*, day: str, cases: list[tuple[str, str, str, bool]], lang: str = "zh-CN") -> Rendered:
    """A staff member's daily list: `cases` are (receipt, kind, category, overdue), oldest first."""
    lang = language(lang)
    overdue = sum(1 for *_, late in cases if late)
    lines = []
    for receipt, kind, category, late in cases:
        categories = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}[kind]
        mark = DIGEST[f"overdue_{lang}"] if late else ""
        lines.append(f"{receipt} {_label(KINDS, kind, lang)}·{_label(categories, category, lang)}{mark}")
    subject = DIGEST[f"subject_{lang}"].format(day=day, open=len(cases), overdue=overdue)
    return Rendered(subject, "\n".join(lines))


REPORTER_SUBJECTS = {
    ("acknowledged", "zh-CN"): "【民情】您反映的{kind}已受理 {receipt}",
    ("acknowledged", "en"): "[minqing] Your {kind} is being handled: {receipt}",
    ("resolved", "zh-CN"): "【民情】您反映的{kind}已办结 {receipt}",
    ("resolved", "en"): "[minqing] Your {kind} is resolved: {receipt}",
    ("rejected", "zh-CN"): "【民情】您反映的{kind}不予受理 {receipt}",
    ("rejected", "en"): "[minqing] Your {kind} was not taken up: {receipt}",
    ("reminder", "zh-CN"): "【民情】请评价办理效果 {receipt}",
    ("reminder", "en"): "[minqing] Please rate the outcome: {receipt}",
}
REPORTER_BODIES = {
    ("acknowledged", "zh-CN"): "您反映的问题已受理，正在办理。",
    ("acknowledged", "en"): "We have taken up what you reported and are working on it.",
    ("resolved", "zh-CN"): "您反映的问题已办结，请打开链接评价：是否解决、是否满意。",
    ("resolved", "en"): "What you reported is resolved. Please open the link to say whether it is fixed.",
    ("rejected", "zh-CN"): "您反映的问题不予受理，原因见办理进度。",
    ("rejected", "en"): "What you reported was not taken up; the progress page says why.",
    ("reminder", "zh-CN"): "您反映的问题已办结，尚未评价。请打开链接评价，逾期将自动关闭。",
    ("reminder", "en"): "What you reported was resolved and is not rated yet. Please rate it before it closes.",
}
REPLY = {"zh-CN": "答复：{reply}", "en": "Reply: {reply}"}


def render_for_reporter(*, kind: str, status: str, receipt: str, lang: str = "zh-CN", reply: str = "",
                        reminder: bool = False) -> Rendered:
    """The short text the reporter gets (SMS-sized); the status link follows it when it is sent."""
    lang = language(lang)
    which = "reminder" if reminder else status
    fields = dict(kind=_label(KINDS, kind, lang), receipt=receipt)
    body = REPORTER_BODIES[(which, lang)]
    if reply:
        short = reply if len(reply) <= EXCERPT else reply[:EXCERPT] + "…"
        body += "\n" + REPLY[lang].format(reply=short)
    return Rendered(REPORTER_SUBJECTS[(which, lang)].format(**fields), body)
