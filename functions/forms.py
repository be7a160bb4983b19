"""The phone forms, declared: which inputs each kind shows, in which mode, with their labels (zh/en).

The schemas decide what is valid; this only decides what a resident sees, so names follow the schemas'
dotted paths (`location.address`) and the form posts straight to the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from schemas.choices import (
    CONSULTATION_MODES,
    ENTERPRISE_CATEGORIES,
    HAZARD_CATEGORIES,
    KINDS,
    SERVICES,
    SEVERITIES,
    URGENCIES,
    Label,
)

PATHS = {"hazard": "/api/v1/hazard-reports", "consultation": "/api/v1/consultations",
         "enterprise": "/api/v1/enterprise-requests"}
# The field a poster's `cat` parameter fills in, per kind.
CATEGORY_FIELD = {"hazard": "category", "consultation": "service", "enterprise": "category"}
COMMUNITY = "community"  # a select filled from the directory at render time


@dataclass(frozen=True)
class Input:
    name: str
    label: Label
    widget: str = "text"  # text, tel, number, textarea, select, checkbox, datetime, hidden, file
    choices: Mapping[str, Label] | str | None = None
    required: bool = False
    modes: tuple[str, ...] = ()  # shown only in these modes; () means always
    hint: Label | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)


def _l(zh: str, en: str) -> Label:
    return Label(zh, en)


DESCRIPTION = Input("description", _l("情况描述", "What is the matter"), "textarea", required=True,
                    attrs={"maxlength": "2000", "rows": "4"})
NAME = _l("姓名", "Name")
PHONE = _l("手机号", "Mobile phone")
EMAIL = _l("电子邮箱（选填）", "E-mail (optional)")
NOTIFY = _l("办结时通知我", "Tell me when it is handled")
NOTIFY_HINT = _l("受理、办结或不予受理时，发短信（手机）或邮件给您，附查看进度和评价的链接",
                 "We text your mobile or e-mail you on acknowledge, resolve or reject, with a link to follow and rate it")

FORMS: dict[str, tuple[Input, ...]] = {
    "hazard": (
        Input("community", _l("社区", "Community"), "select", COMMUNITY, required=True),
        Input("category", _l("问题类别", "Category"), "select", HAZARD_CATEGORIES, required=True),
        Input("location.address", _l("具体位置", "Where exactly"), required=True, attrs={"maxlength": "200"}),
        Input("location.spot", _l("点位", "Spot"), "hidden"),
        Input("location.lat", _l("纬度", "Latitude"), "hidden"),
        Input("location.lon", _l("经度", "Longitude"), "hidden"),
        DESCRIPTION,
        Input("severity", _l("紧急程度", "How urgent"), "select", SEVERITIES),
        Input("photos", _l("照片（最多6张）", "Photos (up to 6)"), "file",
              attrs={"accept": "image/jpeg,image/png,image/webp,image/heic", "multiple": ""}),
        Input("patrol.team", _l("巡查队伍", "Patrol team"), required=True, modes=("patrol",),
              attrs={"maxlength": "50"}),
        Input("patrol.volunteer_id", _l("志愿者编号", "Volunteer id"), required=True, modes=("patrol",),
              attrs={"maxlength": "32", "autocapitalize": "off"}),
        Input("patrol.round", _l("巡查轮次", "Round"), "hidden", modes=("patrol",)),
        Input("rectified_on_site", _l("已当场整改", "Fixed on the spot"), "checkbox", modes=("patrol",)),
        Input("rectification", _l("整改情况（当场整改时填写）", "What was done (when fixed on the spot)"), "textarea",
              modes=("patrol",), attrs={"maxlength": "1000", "rows": "2"}),
        Input("after_photos", _l("整改后照片", "Photos after the fix"), "file", modes=("patrol",),
              attrs={"accept": "image/jpeg,image/png,image/webp,image/heic", "multiple": ""}),
        Input("contact.name", NAME, modes=("",), hint=_l("选填，便于回访", "Optional, so we can call back"),
              attrs={"maxlength": "50", "autocomplete": "name"}),
        Input("contact.phone", PHONE, "tel", modes=("",), attrs={"autocomplete": "tel"}),
        Input("contact.email", EMAIL, "email", modes=("",), attrs={"autocomplete": "email", "maxlength": "254"}),
        Input("contact.notify", NOTIFY, "checkbox", modes=("",), hint=NOTIFY_HINT),
        Input("contact.anonymous", _l("匿名上报", "Report anonymously"), "checkbox", modes=("",)),
    ),
    "consultation": (
        Input("mode", _l("类型", "Type"), "hidden"),
        Input("service", _l("服务项目", "Service"), "select", SERVICES, required=True),
        Input("community", _l("社区", "Community"), "select", COMMUNITY, required=True),
        DESCRIPTION,
        Input("preferred_time", _l("希望的时间", "Preferred time"), modes=("request",), attrs={"maxlength": "100"}),
        Input("provider", _l("服务提供方", "Provider"), required=True, modes=("report",), attrs={"maxlength": "100"}),
        Input("held_at", _l("开展时间", "Held at"), "datetime", required=True, modes=("report",)),
        Input("beneficiaries", _l("服务人数", "People served"), "number", required=True, modes=("report",),
              attrs={"min": "0", "max": "10000"}),
        Input("hours", _l("时长（小时）", "Hours"), "number", required=True, modes=("report",),
              attrs={"min": "0", "max": "1000", "step": "0.5"}),
        Input("contact.name", NAME, required=True, modes=("request",), attrs={"autocomplete": "name"}),
        Input("contact.phone", PHONE, "tel", required=True, modes=("request",), attrs={"autocomplete": "tel"}),
        Input("contact.email", EMAIL, "email", modes=("request",), attrs={"autocomplete": "email", "maxlength": "254"}),
        Input("contact.notify", NOTIFY, "checkbox", modes=("request",), hint=NOTIFY_HINT),
    ),
    "enterprise": (
        Input("enterprise.name", _l("企业名称", "Enterprise name"), required=True, attrs={"maxlength": "100"}),
        Input("enterprise.uscc", _l("统一社会信用代码", "Unified Social Credit Code"), required=True,
              attrs={"maxlength": "18", "autocapitalize": "characters"}),
        Input("category", _l("诉求类别", "Category"), "select", ENTERPRISE_CATEGORIES, required=True),
        Input("urgency", _l("紧急程度", "Urgency"), "select", URGENCIES),
        DESCRIPTION,
        Input("contact.name", _l("联系人", "Contact person"), required=True, attrs={"maxlength": "50"}),
        Input("contact.phone", _l("联系电话", "Phone"), "tel", required=True),
        Input("contact.email", EMAIL, "email", attrs={"autocomplete": "email", "maxlength": "254"}),
        Input("contact.notify", NOTIFY, "checkbox", hint=NOTIFY_HINT),
        Input("enterprise.address", _l("企业地址", "Address"), attrs={"maxlength": "200"}),
        Input("community", _l("所在社区（选填）", "Community (optional)"), "select", COMMUNITY),
    ),
}

# Page modes per kind; the first is the default.
MODES = {"hazard": ("", "patrol"), "consultation": ("request", "report"), "enterprise": ("",)}
PATROL = _l("巡查上报", "Patrol finding")


def title(kind: str, mode: str) -> Label:
    base = KINDS[kind]
    extra = PATROL if mode == "patrol" else CONSULTATION_MODES.get(mode) if kind == "consultation" else None
    return Label(f"{base.zh} · {extra.zh}", f"{base.en} · {extra.en}") if extra else base


def inputs_for(kind: str, mode: str) -> list[Input]:
    return [i for i in FORMS[kind] if not i.modes or mode in i.modes]


CATEGORIES = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}
