"""Closed vocabularies of the forms: code → Label(zh, en). Codes are stored; labels are shown."""

from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    zh: str
    en: str


KINDS = {
    "hazard": Label("隐患上报", "Hazard report"),
    "consultation": Label("咨询服务", "Consultation"),
    "enterprise": Label("企业诉求", "Enterprise request"),
}

HAZARD_CATEGORIES = {
    "fire_safety": Label("消防安全", "Fire safety"),
    "structure": Label("危墙危房", "Unsafe wall or building"),
    "ev_charging": Label("电动车违规充电", "Unsafe e-bike charging"),
    "sanitation": Label("环境卫生", "Sanitation"),
    "lighting": Label("路灯照明", "Street lighting"),
    "facility": Label("公共设施", "Public facilities"),
    "traffic_parking": Label("交通停车", "Traffic and parking"),
    "other": Label("其他", "Other"),
}

SEVERITIES = {
    "low": Label("低", "Low"),
    "medium": Label("中", "Medium"),
    "high": Label("高", "High"),
    "urgent": Label("紧急", "Urgent"),
}

SERVICES = {
    "medical_clinic": Label("义诊", "Free medical clinic"),
    "legal_advice": Label("法律咨询", "Legal advice"),
    "mediation": Label("民事调解", "Civil mediation"),
    "elderly_meals": Label("助餐", "Meals for the elderly"),
    "home_cleaning": Label("助洁", "Home cleaning"),
    "elder_care": Label("助老", "Elderly care"),
    "home_adaptation": Label("适老化改造", "Age-friendly home adaptation"),
    "appliance_cleaning": Label("清洗家电", "Appliance cleaning"),
    "other": Label("其他", "Other"),
}

ENTERPRISE_CATEGORIES = {
    "workspace": Label("办公用地", "Office space"),
    "tax": Label("报税", "Tax filing"),
    "licensing": Label("办证", "Licences and permits"),
    "market_entry": Label("入驻", "Setting up here"),
    "customer_flow": Label("引流", "Attracting customers"),
    "hiring": Label("用工", "Hiring"),
    "subsidy": Label("补贴政策", "Subsidies"),
    "financing": Label("融资", "Financing"),
    "other": Label("其他", "Other"),
}

URGENCIES = {
    "normal": Label("一般", "Normal"),
    "urgent": Label("紧急", "Urgent"),
}

CONSULTATION_MODES = {
    "request": Label("服务申请", "Service request"),
    "report": Label("服务记录", "Service record"),
}

# Coordinate reference systems: phones report WGS-84; Chinese map apps (AMap, Tencent) use GCJ-02.
COORDINATE_SYSTEMS = {
    "wgs84": Label("WGS-84（GPS）", "WGS-84 (GPS)"),
    "gcj02": Label("GCJ-02（国测局坐标）", "GCJ-02 (Chinese map apps)"),
}

LANGUAGES = {
    "zh-CN": Label("简体中文", "Simplified Chinese"),
    "en": Label("英文", "English"),
}

# The case workflow's statuses, as every page, message, export and Open311 names them: the one set of
# labels, so a resident and a staff member see the same word for the same state. The codes agree with
# minqing/domain/workflow.py (a test checks).
CASE_STATUSES = {
    "received": Label("待受理", "Received"),
    "acknowledged": Label("已受理", "Acknowledged"),
    "in_progress": Label("办理中", "In progress"),
    "resolved": Label("已办结", "Resolved"),
    "closed": Label("已关闭", "Closed"),
    "rejected": Label("不予受理", "Not taken up"),
    "reopened": Label("重新办理", "Reopened"),
}

CASE_ACTIONS = {
    "acknowledge": Label("签收", "Acknowledge"),
    "start": Label("开始处理", "Start work"),
    "resolve": Label("办结", "Resolve"),
    "close": Label("关闭", "Close"),
    "reject": Label("不予受理", "Reject"),
    "reopen": Label("重新打开", "Reopen"),
    "assign": Label("改派", "Reassign"),
    "note": Label("备注", "Add a note"),
    "publish": Label("公开", "Make public"),
}

REJECT_REASONS = {
    "duplicate": Label("重复上报", "Duplicate"),
    "not_our_responsibility": Label("不属于本街道职责", "Not our responsibility"),
    "invalid": Label("无效信息", "Invalid"),
}

ENTERPRISE_OUTCOMES = {
    "solved": Label("已解决", "Solved"),
    "partly_solved": Label("部分解决", "Partly solved"),
    "not_solved": Label("未能解决", "Not solved"),
    "referred": Label("已转办", "Referred elsewhere"),
}

CASE_SORTS = {
    "-submitted_at": Label("最新提交在前", "Newest first"),
    "submitted_at": Label("最早提交在前", "Oldest first"),
    "-updated_at": Label("最近更新在前", "Recently updated first"),
    "updated_at": Label("最久未更新在前", "Least recently updated first"),
}


CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")
