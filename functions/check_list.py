"""The patrol form's "to check on this round" list (核查清单): a community's hazards that staff resolved,
shown with public data only (receipt, category, the poster spot's name, the day resolved), each with a small
form to say fixed or not fixed with a photo (POST /api/v1/checks/<receipt>, functions/checks.py)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import request

from functions.services import services
from schemas.choices import HAZARD_CATEGORIES

log = logging.getLogger("minqing.functions")

TEXT = {
    "heading": ("本轮待核查", "To check on this round"),
    "intro": ("以下隐患已由工作人员办结，请到现场看一看，拍照后选择结果。",
              "Staff resolved these hazards: look on your round, take a photo and say what you found."),
    "none": ("本社区暂无待核查的事项。", "Nothing to check in this community now."),
    "resolved": ("办结于", "resolved"),
    "photo": ("现场照片", "Photo"),
    "note": ("说明（选填）", "Note (optional)"),
    "volunteer": ("志愿者编号", "Volunteer id"),
    "fixed": ("已整改", "Fixed"),
    "not_fixed": ("未整改，重新打开", "Not fixed: reopen"),
    "unreadable": ("暂时无法读取待核查清单。", "The list cannot be read right now."),
}
OUTCOMES = {
    "fixed": ("已记录：{receipt} 核查已整改。谢谢！", "Recorded: {receipt} checked and fixed. Thank you!"),
    "not-fixed": ("已记录：{receipt} 未整改，已重新打开并通知负责人。",
                  "Recorded: {receipt} not fixed; reopened and its assignees told."),
}
REFUSED = ("{receipt} 的核查没有记录：请拍照并核对志愿者编号后重试。",
           "The check of {receipt} was not recorded: add a photo, check your volunteer id and try again.")


def has_patrol_team(community: str | None) -> bool:
    """A community has a patrol team when a volunteer of the roster is in it."""
    return bool(community) and any(v.community == community and v.active
                                   for v in services().directory.volunteers.values())


def check_list(page, round_id: str) -> dict | None:
    """What the form's include `_checks.html` shows, or None (not a patrol form, or no team here)."""
    if page.mode != "patrol" or not has_patrol_team(page.community):
        return None
    en = page.lang == "en"
    svc = services()
    from minqing.store import checks

    try:
        with svc.engine.connect() as connection:
            found = checks.to_check(connection, page.community)
        unreadable = False
    except Exception:
        # The form must open even when the database does not answer: a finding is queued, not stored here.
        log.warning("check list for %s unreadable", page.community, exc_info=True)
        found, unreadable = [], True
    community = svc.directory.communities[page.community]
    spots = {s.code: s.name for s in community.spots}
    query = urlencode({**page.query(), "round": round_id})
    items = [{"receipt": c["receipt"],
              "category": _label(c["category"], en),
              "place": spots.get(c["spot"]) or (community.name.en if en else community.name.zh),
              "resolved": c["resolved_at"].astimezone(_office_tz()).date().isoformat(),
              "action": f"/api/v1/checks/{c['receipt']}?{query}"} for c in found]
    message = None
    checked = request.args.get("checked", "")[:40]
    if checked:
        outcome = request.args.get("outcome", "")
        text = OUTCOMES.get(outcome, REFUSED)[1 if en else 0]
        message = {"text": text.format(receipt=checked), "ok": outcome in OUTCOMES}
    return {"cases": items, "round": round_id, "vid": page.vid, "team": page.team, "message": message,
            "unreadable": unreadable, "t": {k: v[1 if en else 0] for k, v in TEXT.items()}}


def _label(category: str, en: bool) -> str:
    label = HAZARD_CATEGORIES.get(category)
    return category if label is None else (label.en if en else label.zh)


def _office_tz():
    from minqing.domain.tallies import OFFICE_TZ

    return OFFICE_TZ
