"""The public status page of a submission (`/r/<receipt>`): its history with the office's public replies and
after-photos; for the one who reported (the feedback code), the rating form once it is resolved and the
催办 button while it is overdue.

The code reaches this page three ways: typed into the rating form, in a cookie the thank-you page's 303 set,
or in the link of the reporter's SMS or e-mail (`?k=`), which is turned into that cookie and redirected to
the clean URL at once, so it stays in neither the history nor a Referer.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError

from functions.problems import Problem, pick_lang
from functions.public import photo_answer
from functions.services import services
from minqing.receipts import is_feedback_code, parse_receipt
from schemas import errors_by_path
from schemas.cases import FeedbackSchema
from schemas.choices import CASE_STATUSES, HAZARD_CATEGORIES, KINDS, SERVICES, ENTERPRISE_CATEGORIES, Label
from schemas.fields import BEIJING
from workers.brokers import NUDGE_ASSIGNEES

blueprint = Blueprint("status", __name__, template_folder="templates")

STATUS_COOKIE = "minqing_status_code"
STATUS_COOKIE_SECONDS = 60 * 86400  # longer than a resolved case waits for its rating
CATEGORIES = {"hazard": HAZARD_CATEGORIES, "consultation": SERVICES, "enterprise": ENTERPRISE_CATEGORIES}

TEXT = {
    "status": ("办理进度", "Progress"),
    "not_found": ("没有这个回执码，请核对后重试。", "No such receipt; check the code and try again."),
    "not_stored": ("已收到，正在登记，请稍后刷新。", "Received; it is being filed. Refresh shortly."),
    "lang": ("English", "中文"),
    "html_lang": ("zh-CN", "en"),
    "reply": ("答复", "Reply"),
    "after": ("整改后照片", "After the work"),
    "nudged": ("居民催办", "Chased by the resident"),
    "overdue": ("已超过办理时限", "Past its deadline"),
    "nudge": ("催办", "Chase it up (催办)"),
    "nudge_hint": ("超时未办结的事项，每天可催办一次，将通知负责人及其上级。",
                   "An overdue case can be chased once a day; its staff and their superior are told."),
    "nudge_done": ("已催办，负责人及其上级已收到通知。", "Chased: its staff and their superior have been told."),
    "nudge_again": ("今天已经催办过了，明天可再催办。", "It was chased today already; you can again tomorrow."),
    "rate": ("评价办理效果", "Rate the outcome"),
    "rating": ("满意度（1–5分）", "Satisfaction (1–5)"),
    "fixed_q": ("问题解决了吗？", "Is it fixed?"),
    "fixed": ("已解决", "Fixed"),
    "not_fixed": ("没有解决（重新办理）", "Not fixed (reopen it)"),
    "comment": ("意见（选填）", "Comment (optional)"),
    "code": ("评价码", "Feedback code"),
    "code_hint": ("提交成功时给出的16位评价码", "The 16-character code given when you submitted"),
    "send": ("提交评价", "Send my rating"),
    "thanks_rated": ("感谢您的评价！", "Thank you for your rating!"),
    "reopened": ("已重新交办，我们会继续处理。", "It has been reopened; we are on it again."),
    "wrong_code": ("评价码不正确。", "That feedback code is not right."),
    "already": ("该事项已经评价过了，谢谢！", "It was rated already; thank you."),
    "check": ("请检查标红的内容。", "Please check the fields marked in red."),
    "list": ("公开问题清单", "Public problem list"),
}
ACTION_LABELS = {"nudge": TEXT["nudged"]}


def texts(lang: str) -> dict[str, str]:
    return {key: pair[1 if lang == "en" else 0] for key, pair in TEXT.items()}


def _pick(label, lang: str) -> str:
    return label.en if lang == "en" else label.zh


def _local(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _case(receipt: str):
    """(kind, canonical receipt, stored case or None); 404 for a code we never issued."""
    svc = services()
    parsed = parse_receipt(svc.settings.secret_key, receipt)
    if parsed is None:
        return None, receipt, None
    from minqing.store import cases

    try:
        with svc.engine.connect() as connection:
            return parsed[0], parsed[1], cases.case_by_receipt(connection, parsed[1])
    except Exception:
        raise Problem(503, "database-unavailable", ("暂时查不到状态，请稍后重试。", "Retry later."))


def _holds_code(case, given: str | None = None) -> bool:
    code = given if given is not None else request.cookies.get(STATUS_COOKIE, "")
    return case is not None and is_feedback_code(services().settings.secret_key, case.id, code)


def set_code_cookie(response, receipt: str, code: str) -> None:
    """The feedback code for this status page alone: HttpOnly, and Lax so the link from an e-mail or SMS app
    (another site) brings it along on its redirect."""
    response.set_cookie(STATUS_COOKIE, code, max_age=STATUS_COOKIE_SECONDS, path=f"/r/{receipt}",
                        secure=services().base_uri.startswith("https:"), httponly=True, samesite="Lax")


@blueprint.get("/r/<receipt>")
def show(receipt: str):
    """The public status history of a submission: no names, phones or free text but the office's replies."""
    lang = pick_lang(services().settings.default_lang)
    kind, receipt, case = _case(receipt)
    if kind is None:
        return _page(render_template("status.html", found=None, receipt=receipt, t=texts(lang)), 404, lang)
    if "k" in request.args:
        # From the reporter's message: keep the code in a cookie for this page, drop it from the URL.
        clean = url_for("status.show", receipt=receipt, **({"lang": "en"} if lang == "en" else {}))
        response = redirect(clean, 303)
        if _holds_code(case, request.args["k"]):
            set_code_cookie(response, receipt, request.args["k"])
        response.headers["Cache-Control"] = "no-store"
        return response
    done = {"rated": "thanks_rated", "reopened": "reopened", "nudged": "nudge_done", "nudge-again": "nudge_again"}
    message = texts(lang).get(done.get(request.args.get("done", ""), ""), "")
    return render_status(kind, receipt, case, lang, message=message)


def render_status(kind: str, receipt: str, case, lang: str, *, message: str = "", problem: Problem | None = None,
                  values=None, status: int = 200):
    from minqing.domain import workflow
    from minqing.store import base, cases, public

    svc = services()
    t = texts(lang)
    if case is None:
        facts = {"kind": _pick(KINDS[kind], lang), "status": _pick(CASE_STATUSES["received"], lang)}
        body = render_template("status.html", found=True, stored=False, facts=facts, history=[], receipt=receipt,
                               t=t, message=message)
        return _page(body, status, lang)
    with svc.engine.connect() as connection:
        steps = public.history(connection, case.id)
        feedback_open = case.status == "resolved" and cases.feedback_of(connection, case.id) is None
    community = svc.directory.communities.get(case.community or "")
    facts = {
        "kind": _pick(KINDS[kind], lang),
        "community": _pick(community.name, lang) if community else "",
        "category": _pick(CATEGORIES[kind][case.category], lang) if case.category in CATEGORIES[kind] else "",
        "status": _pick(CASE_STATUSES.get(case.status, Label(case.status, case.status)), lang),
    }
    history = []
    for step in steps:
        label = ACTION_LABELS.get(step["action"]) or CASE_STATUSES.get(step["status"]) or Label(step["status"],
                                                                                              step["status"])
        label = label if isinstance(label, Label) else Label(*label)
        photos = [url_for("status.photo", receipt=receipt, step=step["id"], index=i) for i in range(len(step["photos"]))]
        history.append({"label": _pick(label, lang), "at": _local(step["at"]), "reply": step["reply"],
                        "photos": photos})
    holder = _holds_code(case)
    overdue = workflow.is_overdue(case.status, case.due_at, base.now())
    errors = dict(problem.errors or {}) if problem else {}
    body = render_template(
        "status.html", found=True, stored=True, facts=facts, history=history, receipt=receipt, t=t,
        message=message, feedback_open=feedback_open, holder=holder, overdue=overdue,
        nudge_allowed=overdue and holder, errors=errors, values=values or {},
        lang_query=({"lang": "en"} if lang == "en" else {}))
    return _page(body, status, lang)


def _posted_to(receipt: str):
    """What a post to a status page's forms works with: services, language, texts and the stored case (404
    for a receipt that is not ours or not stored)."""
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    kind, receipt, case = _case(receipt)
    if kind is None or case is None:
        abort(404)
    return svc, lang, texts(lang), (kind, receipt, case)


@blueprint.post("/r/<receipt>/feedback")
def rate(receipt: str):
    """The rating form's post: 1–5, fixed or not, a comment; "not fixed" reopens the case."""
    svc, lang, t, (kind, receipt, case) = _posted_to(receipt)
    form = request.form
    code = form.get("feedback_code") or request.cookies.get(STATUS_COOKIE, "")
    fields = {k: form[k] for k in ("rating", "fixed", "comment") if form.get(k, "") != ""}
    try:
        given = FeedbackSchema().load(fields)
    except ValidationError as error:
        problem = Problem(422, "validation-error", errors=errors_by_path(error.messages, lang))
        return render_status(kind, receipt, case, lang, message=t["check"], problem=problem, values=form, status=422)
    if not _holds_code(case, code):
        problem = Problem(403, "feedback-code-wrong", errors={"feedback_code": [t["wrong_code"]]})
        return render_status(kind, receipt, case, lang, message=t["wrong_code"], problem=problem, values=form,
                             status=403)
    from minqing.store import changes

    with svc.engine.begin() as connection:
        outcome = changes.record_feedback(connection, receipt, rating=given["rating"], fixed=given["fixed"],
                                          comment=given.get("comment", ""))
    if outcome == "already-given":
        return render_status(kind, receipt, case, lang, message=t["already"], status=409)
    if outcome != "recorded":
        abort(409)
    done = "rated" if given["fixed"] else "reopened"
    response = redirect(url_for("status.show", receipt=receipt, done=done, **({"lang": "en"} if lang == "en" else {})),
                        303)
    if form.get("feedback_code"):
        set_code_cookie(response, receipt, code)
    return response


@blueprint.post("/r/<receipt>/nudge")
def nudge(receipt: str):
    """催办: once a day per case, by the one who reported, while it is overdue."""
    svc, lang, t, (kind, receipt, case) = _posted_to(receipt)
    if not _holds_code(case, request.form.get("feedback_code") or None):
        return render_status(kind, receipt, case, lang, message=t["wrong_code"], status=403)
    from minqing.store import changes

    with svc.engine.begin() as connection:
        step = changes.record_nudge(connection, case.id)
        if step is not None:
            try:  # before the commit: if the queue refuses, nothing is recorded or counted
                svc.enqueue(NUDGE_ASSIGNEES, case.id, step)
            except Exception:
                raise Problem(503, "queue-unavailable", ("暂时无法催办，请稍后重试。", "Cannot chase it right now; retry."),
                              headers={"Retry-After": "5"})
    done = "nudged" if step is not None else "nudge-again"
    return redirect(url_for("status.show", receipt=receipt, done=done, **({"lang": "en"} if lang == "en" else {})),
                    303)


@blueprint.get("/r/<receipt>/photos/<int:step>/<int:index>")
def photo(receipt: str, step: int, index: int):
    """An after-photo of a resolve step, as its EXIF-free copy; nothing else is served from here."""
    svc = services()
    kind, receipt, case = _case(receipt)
    if kind is None or case is None:
        abort(404)
    from minqing.store import public

    with svc.engine.connect() as connection:
        found = next((s for s in public.history(connection, case.id) if s["id"] == step), None)
        key = found["photos"][index] if found and index < len(found["photos"]) else None
        copy = key and public.clean_copy(connection, key)
    return photo_answer(copy, "public, max-age=86400")


def _page(body: str, status: int, lang: str):
    response = make_response(body, status)
    response.headers["Content-Language"] = "en" if lang == "en" else "zh-CN"
    response.headers["Cache-Control"] = "no-store"
    return response
