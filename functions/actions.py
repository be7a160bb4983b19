"""One-tap actions (一键处理) from a notification's signed link: GET shows what will happen, POST does it."""

from __future__ import annotations

from flask import Blueprint, render_template

from functions.problems import pick_lang
from functions.services import services
from minqing import links
from minqing.domain.workflow import REPORTER_TOLD_OF, wants_updates
from minqing.privacy import mask_personal_numbers_in
from schemas.choices import CASE_STATUSES, KINDS
from workers.brokers import TELL_REPORTER

blueprint = Blueprint("actions", __name__, template_folder="templates")

TEXTS = {
    "zh-CN": {
        "title": "民情 · 一键处理", "acknowledge": "确认受理", "resolve": "标记为已办结",
        "confirm": "确认{action}以下事项？", "button": "确认", "receipt": "回执码", "kind": "类型",
        "status": "当前状态", "done": "已完成：{action}。", "recorded": "已记入办理记录（{who}）。",
        "invalid": "链接无效：可能被改动过，或不是本系统发出的。未做任何更改。",
        "expired": "链接已过期。未做任何更改，请在系统中办理或联系值班室。",
        "used": "该链接已经使用过。未做任何更改。",
        "moved": "该事项当前状态为“{status}”，无法{action}。未做任何更改。",
        "missing": "找不到该事项（可能尚未入库，请稍后再试）。未做任何更改。",
        "unavailable": "暂时无法办理，请稍后重试。未做任何更改。",
        "who": "办理人", "acting": "确认后将以{name}的名义办理。",
        "group": "此链接发在群“{group}”中，群里任何人都能打开。确认后将以{name}的名义办理，办理记录会注明经由该群。",
        "reassigned": "{name}已不再负责该事项（已转派他人）。未做任何更改。",
        "revoked": "{name}的账号已被停用，链接不再有效。未做任何更改。",
        "departed": "该链接的办理人已不在人员名录中，链接不再有效。未做任何更改。",
    },
    "en": {
        "title": "minqing · one-tap action", "acknowledge": "acknowledge", "resolve": "resolve",
        "confirm": "Confirm: {action} this case?", "button": "Confirm", "receipt": "Receipt", "kind": "Kind",
        "status": "Status", "done": "Done: {action}.", "recorded": "Recorded in the case history ({who}).",
        "invalid": "This link is not valid: it was altered or not sent by us. Nothing was changed.",
        "expired": "This link has expired. Nothing was changed; act in the system or call the duty office.",
        "used": "This link has already been used. Nothing was changed.",
        "moved": "The case is now \u201c{status}\u201d, so it cannot {action} any more. Nothing was changed.",
        "missing": "No such case (it may not be stored yet; try again shortly). Nothing was changed.",
        "unavailable": "This cannot be done right now; please retry. Nothing was changed.",
        "who": "Acting as", "acting": "You are acting as {name}.",
        "group": "This link was posted to the group \u201c{group}\u201d: anyone in the group can open it. You are acting "
                 "as {name}; the case history will record that it came through the group.",
        "reassigned": "{name} no longer answers for this case (it was reassigned). Nothing was changed.",
        "revoked": "{name}\u2019s access has been revoked, so this link no longer acts. Nothing was changed.",
        "departed": "The person this link was sent to is no longer in the staff directory. Nothing was changed.",
    },
}


def _page(lang: str, status: int, *, message: str, case=None, form: bool = False, action: str = "",
          acting: str = ""):
    texts = TEXTS[lang]
    html = render_template("one_tap.html", lang=lang, t=texts, message=message, case=case, form=form,
                           action=action, acting=acting)
    # No Referer (the token is in the URL) and no framing: set for every page by functions/headers.py.
    return html, status, {"Content-Language": lang, "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _refused(lang: str, reason: str):
    return _page(lang, 410 if reason == "expired" else 403, message=TEXTS[lang][reason])


def _name(grant) -> str:
    staff = services().directory.staff.get(grant.staff_id)
    return staff.name if staff else grant.staff_id


def _withdrawn(lang: str, grant, reason: str):
    # Reassigned: the case moved on (409); revoked or left the directory: the person may not act (403).
    return _page(lang, 409 if reason == "reassigned" else 403, message=TEXTS[lang][reason].format(name=_name(grant)))


def _acting(lang: str, grant) -> str:
    texts = TEXTS[lang]
    if grant.via:
        return texts["group"].format(group=grant.via, name=_name(grant))
    return texts["acting"].format(name=_name(grant))


def _case_view(row, lang: str) -> dict:
    english = lang == "en"
    label = KINDS[row.kind]
    return {
        "receipt": row.receipt,
        "kind": label.en if english else label.zh,
        "status": CASE_STATUSES[row.status].en if english else CASE_STATUSES[row.status].zh,
        # The link may be forwarded to a group: show no contact details, and mask phones in the text.
        "description": mask_personal_numbers_in(row.payload.get("description", ""))[:200],
    }


@blueprint.get("/a/<token>")
def confirm(token: str):
    svc, lang = services(), pick_lang(services().settings.default_lang)
    try:
        grant = links.verify(svc.settings.secret_key, token)
    except links.LinkRefused as refused:
        return _refused(lang, refused.reason)
    from minqing.store import cases
    from minqing.store.one_tap import withdrawn

    try:
        with svc.engine.connect() as connection:
            row = cases.submission(connection, grant.submission_id)
            reason = row and withdrawn(connection, grant, svc.directory)
    except Exception:
        return _page(lang, 503, message=TEXTS[lang]["unavailable"])
    if row is None:
        return _page(lang, 404, message=TEXTS[lang]["missing"])
    if reason:
        return _withdrawn(lang, grant, reason)
    action = TEXTS[lang][grant.action]
    return _page(lang, 200, message=TEXTS[lang]["confirm"].format(action=action), case=_case_view(row, lang),
                 form=True, action=action, acting=_acting(lang, grant))


class _QueueRefused(Exception):
    """The reporter's notice could not be queued: the step is rolled back."""


@blueprint.post("/a/<token>")
def act(token: str):
    svc, lang = services(), pick_lang(services().settings.default_lang)
    try:
        grant = links.verify(svc.settings.secret_key, token)
    except links.LinkRefused as refused:
        return _refused(lang, refused.reason)
    from minqing.domain.workflow import IllegalTransition
    from minqing.store import cases
    from minqing.store.one_tap import LinkUsed, LinkWithdrawn, act_by_link

    texts, action = TEXTS[lang], TEXTS[lang][grant.action]
    try:
        with svc.engine.begin() as connection:
            change = act_by_link(connection, grant, svc.directory)
            case = cases.submission(connection, grant.submission_id)
            if change.after in REPORTER_TOLD_OF and wants_updates(case.payload):
                # Before the commit: if the queue refuses, the link is not used up and nothing changes.
                try:
                    svc.enqueue(TELL_REPORTER, case.id, change.step)
                except Exception as error:
                    raise _QueueRefused() from error
        with svc.engine.connect() as connection:
            row = cases.submission(connection, grant.submission_id)
    except LinkWithdrawn as refused:
        return _withdrawn(lang, grant, refused.reason)
    except LinkUsed:
        return _page(lang, 409, message=texts["used"])
    except IllegalTransition as error:
        status = CASE_STATUSES[error.status].en if lang == "en" else CASE_STATUSES[error.status].zh
        return _page(lang, 409, message=texts["moved"].format(status=status, action=action))
    except LookupError:
        return _page(lang, 404, message=texts["missing"])
    except _QueueRefused:
        return _page(lang, 503, message=texts["unavailable"])
    who = _name(grant) + (f", {grant.via}" if grant.via else "")
    return _page(lang, 200, message=texts["done"].format(action=action) + " " + texts["recorded"].format(who=who),
                 case=_case_view(row, lang))
