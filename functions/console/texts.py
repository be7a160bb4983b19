"""The console's words, zh-CN first, English with `?lang=en`; labels of statuses, kinds and categories come
from schemas/choices.py, the one source."""

from __future__ import annotations

from schemas.choices import (
    CASE_ACTIONS,
    CASE_SORTS,
    CASE_STATUSES,
    ENTERPRISE_CATEGORIES,
    ENTERPRISE_OUTCOMES,
    HAZARD_CATEGORIES,
    KINDS,
    REJECT_REASONS,
    SERVICES,
)

CATEGORIES = {**HAZARD_CATEGORIES, **SERVICES, **ENTERPRISE_CATEGORIES}

TEXTS = {
    "zh-CN": {
        "html_lang": "zh-CN", "console": "民情工作台", "tasks": "我的任务", "cases": "问题清单", "map": "地图",
        "sign_out": "退出", "sign_in": "登录工作台", "signed_in_as": "当前用户", "other_lang": "English",
        "sign_in_lead": "工作人员无需密码：在企业微信或钉钉中打开工作台，或使用发给您的一次性登录链接或6位验证码。",
        "wecom": "用企业微信登录", "code_title": "用验证码登录", "staff_id": "工作人员编号", "code": "6位验证码",
        "code_hint": "验证码由管理员或系统通过您本人的邮箱、短信发送，15分钟内有效，只能使用一次。",
        "send_code": "把登录链接发给我", "send_hint": "填写编号后，登录链接和验证码将发到您本人的邮箱或短信（不会发到群里）。",
        "sent": "如果该编号存在且登记了个人邮箱或短信，登录链接已发出，请查收。",
        "confirm_title": "确认登录", "confirm": "以{name}的身份登录", "confirm_lead": "此链接将以{name}的身份登录民情工作台。",
        "link_bad": "登录链接无效、已过期或已使用。请重新获取。", "code_bad": "编号或验证码不正确，或验证码已过期。",
        "csrf": "页面已过期（缺少或错误的表单令牌），未做任何更改。请返回刷新后重试。",
        "not_found": "没有这个案件，或您无权查看。", "not_found_page": "没有这个页面。", "revoked": "您的账号已被停用。",
        "wecom_off": "本系统未配置企业微信登录。", "wecom_unknown": "您的企业微信账号未登记在人员名录中，请联系管理员。",
        "wecom_failed": "企业微信登录失败，请稍后重试。",
        "dingtalk": "用钉钉登录", "dingtalk_off": "本系统未配置钉钉登录。",
        "dingtalk_unknown": "您的钉钉账号未登记在人员名录中（或所选组织不是本单位），请联系管理员。",
        "dingtalk_failed": "钉钉登录失败，请稍后重试。", "send_failed": "暂时无法发送登录链接，请稍后重试。",
        "open_mine": "我负责的未办结事项", "escalated": "升级给我的事项", "none": "暂无。",
        "overdue": "超期", "due": "期限", "no_due": "无期限", "submitted": "提交时间", "status": "状态", "kind": "类型",
        "community": "社区", "category": "类别", "assignee": "责任人", "assignees": "责任人", "q": "关键词",
        "q_hint": "描述、地址、企业名称或回执码", "from": "起始日期", "to": "截止日期", "sort": "排序", "any": "全部",
        "overdue_only": "是否超期", "yes": "是", "no": "否", "filter": "筛选", "reset": "清除条件", "next": "下一页",
        "first": "第一页", "export_csv": "导出 CSV", "export_xlsx": "导出 Excel", "total": "合计",
        "receipt": "回执码", "history": "办理记录", "photos": "照片", "details": "事项内容", "duplicates": "可能重复",
        "marked_duplicates": "标记为本案重复的事项", "original": "原事项", "feedback": "群众评价", "where": "位置",
        "actions": "办理", "note": "办理说明", "note_hint": "可直接修改模板文字。", "templates": "回复模板",
        "after_photos": "办理后照片", "reason": "不予受理原因", "duplicate_of": "重复的原事项（回执码）",
        "beneficiaries": "服务人数", "hours": "服务时长（小时）", "outcome": "办结情况", "do": "确认",
        "masked": "联系人信息已隐去：您不是该事项的责任人。", "by": "办理人", "at": "时间", "system": "系统",
        "resident": "群众", "choose": "请选择", "errors": "请修改以下问题", "done": "已完成：{action}。",
        "rating": "评分", "fixed": "已解决", "map_title": "隐患地图", "map_lead": "辖区内未办结的隐患，颜色表示状态，红圈表示超期。",
        "map_none": "辖区内暂无带位置的未办结隐患。", "legend": "图例",
        "case_map_hint": "红圈为本事项，灰点为本社区其他未办结隐患。", "zoom_in": "放大", "zoom_out": "缩小",
        "at_map": "在地图上查看", "lat": "纬度", "lon": "经度", "page_title_case": "事项 {receipt}",
    },
    "en": {
        "html_lang": "en", "console": "minqing staff console", "tasks": "My tasks", "cases": "Problem list",
        "map": "Map", "sign_out": "Sign out", "sign_in": "Sign in to the console", "signed_in_as": "Signed in as",
        "other_lang": "中文",
        "sign_in_lead": "No passwords: open the console inside WeCom or DingTalk, or use the one-time link or 6-digit code "
                        "sent to you.",
        "wecom": "Sign in with WeCom", "code_title": "Sign in with a code", "staff_id": "Staff id",
        "code": "6-digit code",
        "code_hint": "The code comes to your own e-mail or phone from an administrator or the system; it works once, "
                     "within 15 minutes.",
        "send_code": "Send me a sign-in link",
        "send_hint": "Give your staff id: a link and a code go to your own e-mail or SMS (never to a group).",
        "sent": "If that staff id exists and has a personal e-mail or SMS channel, a sign-in link is on its way.",
        "confirm_title": "Confirm sign-in", "confirm": "Sign in as {name}",
        "confirm_lead": "This link signs you in to the minqing console as {name}.",
        "link_bad": "This sign-in link is not valid, has expired or was used. Ask for a new one.",
        "code_bad": "The staff id or code is wrong, or the code has expired.",
        "csrf": "This page has expired (its form token is missing or wrong). Nothing was changed; go back, reload and retry.",
        "not_found": "No such case, or it is not yours to see.", "not_found_page": "No such page.", "revoked": "Your access has been revoked.",
        "wecom_off": "WeCom sign-in is not set up here.",
        "wecom_unknown": "Your WeCom account is not in the staff directory; ask an administrator.",
        "wecom_failed": "WeCom sign-in failed; please retry shortly.",
        "dingtalk": "Sign in with DingTalk", "dingtalk_off": "DingTalk sign-in is not set up here.",
        "dingtalk_unknown": "Your DingTalk account is not in the staff directory (or you chose another "
                            "organisation); ask an administrator.",
        "dingtalk_failed": "DingTalk sign-in failed; please retry shortly.",
        "send_failed": "The sign-in link cannot be sent right now; please retry shortly.",
        "open_mine": "Open cases I answer for", "escalated": "Escalated to me", "none": "Nothing here.",
        "overdue": "Overdue", "due": "Due", "no_due": "No deadline", "submitted": "Submitted", "status": "Status",
        "kind": "Kind", "community": "Community", "category": "Category", "assignee": "Assignee",
        "assignees": "Assignees", "q": "Text", "q_hint": "description, address, enterprise or receipt",
        "from": "From", "to": "To", "sort": "Order", "any": "Any", "overdue_only": "Overdue", "yes": "Yes",
        "no": "No", "filter": "Filter", "reset": "Clear", "next": "Next page", "first": "First page",
        "export_csv": "Export CSV", "export_xlsx": "Export Excel", "total": "Total", "receipt": "Receipt",
        "history": "History", "photos": "Photos", "details": "Details", "duplicates": "Likely duplicates",
        "marked_duplicates": "Marked as duplicates of this case", "original": "Original", "feedback": "Resident's feedback",
        "where": "Where", "actions": "Act", "note": "Note", "note_hint": "Edit the template's text as needed.",
        "templates": "Reply templates", "after_photos": "Photos after the work", "reason": "Reason",
        "duplicate_of": "Original case (receipt)", "beneficiaries": "People served", "hours": "Hours",
        "outcome": "Outcome", "do": "Confirm",
        "masked": "Contact details are masked: you do not answer for this case.", "by": "By", "at": "At",
        "system": "system", "resident": "resident", "choose": "Choose", "errors": "Please correct the following",
        "done": "Done: {action}.", "rating": "Rating", "fixed": "Fixed", "map_title": "Hazard map",
        "map_lead": "Open hazards in your scope, coloured by status; a red ring marks an overdue one.",
        "map_none": "No open hazard with a position in your scope.", "legend": "Legend",
        "case_map_hint": "The red ring is this case; grey dots are the community's other open hazards.",
        "zoom_in": "Zoom in", "zoom_out": "Zoom out",
        "at_map": "Show on the map",
        "lat": "Latitude", "lon": "Longitude", "page_title_case": "Case {receipt}",
    },
}

FIELD_LABELS = {
    "description": ("描述", "Description"), "location.address": ("地址", "Address"), "location.spot": ("点位", "Spot"),
    "location.lat": ("纬度", "Latitude"), "location.lon": ("经度", "Longitude"), "contact.name": ("联系人", "Contact"),
    "contact.phone": ("电话", "Phone"), "severity": ("严重程度", "Severity"), "preferred_time": ("预约时间", "Preferred time"),
    "enterprise.name": ("企业名称", "Enterprise"), "enterprise.uscc": ("信用代码", "USCC"),
    "enterprise.address": ("企业地址", "Enterprise address"), "urgency": ("紧急程度", "Urgency"),
    "people": ("人数", "People"), "mode": ("方式", "Mode"), "service": ("服务", "Service"),
}


def label(table: dict, code: str | None, lang: str) -> str:
    """The zh or en label of a code from one of schemas.choices' tables; the code itself if unknown."""
    found = table.get(code or "")
    if found is None:
        return code or ""
    return found.en if lang == "en" else found.zh


__all__ = ["TEXTS", "FIELD_LABELS", "label", "CASE_ACTIONS", "CASE_SORTS", "CASE_STATUSES", "CATEGORIES", "KINDS",
           "REJECT_REASONS", "ENTERPRISE_OUTCOMES"]
