"""The phone pages: forms opened from QR posters, the thank-you page and the public status page.

Server-rendered and small (HTML + CSS + JS under 20 KB); they work without JavaScript, and the forms post
to the same API paths as any client. A browser's own form post gets a page back: a 303 to the thank-you
page, or the form again with the input kept and each message next to its field.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from functions.forms import CATEGORIES, CATEGORY_FIELD, COMMUNITY, FORMS, MODES, PATHS, inputs_for, title
from functions.services import services
from functions.problems import Problem, pick_lang
from minqing.directory import Spot
from minqing.receipts import parse_receipt

SPOT = re.compile(r"[A-Za-z0-9_-]{1,40}")
ROUND = re.compile(r"[A-Za-z0-9-]{1,36}")
FEEDBACK_COOKIE, FEEDBACK_COOKIE_SECONDS = "minqing_feedback_code", 3600
FEEDBACK_CODE = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}")

blueprint = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/assets")


@dataclass(frozen=True)
class Page:
    """What the QR code (or the link back from a thank-you page) says about the form to show."""

    kind: str
    mode: str = ""
    lang: str = "zh-CN"
    community: str | None = None
    spot: object = None  # a directory Spot
    category: str | None = None
    lock: bool = False
    team: str = ""
    vid: str = ""
    round: str = ""  # a patrol round (patrol.round), carried from one finding to the next

    def query(self) -> dict:
        wanted = {"mode": self.mode if self.mode != MODES[self.kind][0] else "", "c": self.community,
                  "spot": self.spot.code if self.spot else "", "cat": self.category, "lock": "1" if self.lock else "",
                  "lang": "en" if self.lang == "en" else "", "team": self.team, "vid": self.vid,
                  "round": self.round}
        return {k: v for k, v in wanted.items() if v}

    def form_url(self) -> str:
        return url_for("pages.form", kind=self.kind, **self.query())


def page_from(kind: str, args) -> Page:
    directory = services().directory
    mode = args.get("mode", "")
    mode = mode if mode in MODES[kind] else MODES[kind][0]
    community = args.get("c") if args.get("c") in directory.communities else None
    spot = None
    for candidate in directory.communities.values():
        if community in (None, candidate.code):
            spot = next((s for s in candidate.spots if s.code == args.get("spot")), None)
            if spot:
                community = candidate.code
                break
    if spot is None and community and SPOT.fullmatch(args.get("spot", "")):
        spot = Spot(args["spot"], "")  # printed from a CSV of spots the directory does not list (yet)
    category = args.get("cat") if args.get("cat") in CATEGORIES[kind] else None
    return Page(kind, mode, pick_lang(services().settings.default_lang), community, spot, category,
                args.get("lock", "") in ("1", "true", "yes"), args.get("team", "")[:50], args.get("vid", "")[:32],
                args.get("round", "") if ROUND.fullmatch(args.get("round", "")) else "")


@blueprint.get("/f/<kind>")
def form(kind: str):
    if kind not in FORMS:
        abort(404)
    return render_form(page_from(kind, request.args))


def answer_browser(kind: str, receive):
    """The intake's answer to a browser's own form post (see intake.accept)."""
    page = page_from(kind, request.args)
    try:
        _, receipt, code, _ = receive(kind)
    except Problem as problem:
        return render_form(page, request.form, problem)
    if page.mode == "patrol":  # the next finding of the round starts with the same team and volunteer
        page = Page(**{**page.__dict__, "team": request.form.get("patrol.team", "")[:50],
                       "vid": request.form.get("patrol.volunteer_id", "")[:32],
                       "round": request.form.get("patrol.round", "")[:36]})
    response = redirect(url_for("pages.thanks", receipt=receipt, **page.query()), 303)
    # The feedback code goes to the thank-you page in a cookie for that page alone, never in its URL, which
    # access logs, the browser's history and a Referer would keep.
    response.set_cookie(FEEDBACK_COOKIE, code, max_age=FEEDBACK_COOKIE_SECONDS,
                        path=url_for("pages.thanks", receipt=receipt), secure=services().base_uri.startswith("https:"),
                        httponly=True, samesite="Strict")
    # And for the status page, where the same browser rates the outcome once it is resolved.
    from functions.status import set_code_cookie

    set_code_cookie(response, receipt, code)
    response.headers["Cache-Control"] = "no-store"  # it carries the code: no cache may keep it
    return response


def render_form(page: Page, values=None, problem: Problem | None = None):
    lang = page.lang
    if values is None:
        values = _prefilled(page)
    photos = {name: list(dict.fromkeys(values.getlist(name) + g.get("form_photos", {}).get(name, [])))
              for name in ("photos", "after_photos")} if problem else {}
    errors = dict(problem.errors or {}) if problem else {}
    locked = {COMMUNITY: page.lock and page.community, CATEGORY_FIELD[page.kind]: page.lock and page.category}
    fields = []
    for item in inputs_for(page.kind, page.mode):
        mine = [text for path, texts in list(errors.items()) if _belongs(path, item.name) for text in errors.pop(path)]
        fields.append(_view(item, values.get(item.name, ""), mine, bool(locked.get(item.name)), lang))
    detail = None
    if problem is not None and (problem.slug != "validation-error" or errors):
        detail = problem.detail[1 if lang == "en" else 0] if problem.detail else _TEXT["check"][lang == "en"]
    action = PATHS[page.kind] + ("?" + urlencode(page.query()) if page.query() else "")
    from functions.check_list import check_list

    body = render_template("form.html", page=page, checks=check_list(page, values.get("patrol.round", "")),
                           title=_pick(title(page.kind, page.mode), lang), fields=fields,
                           photos=photos, action=action, detail=detail, leftover=errors, t=_texts(lang),
                           client_ref=values.get("client_ref") or str(uuid.uuid4()),
                           other_lang=url_for("pages.form", kind=page.kind,
                                              **{**page.query(), "lang": "zh" if lang == "en" else "en"}))
    status = problem.status if problem else 200
    return _page(body, status, lang)


def _prefilled(page: Page):
    from werkzeug.datastructures import MultiDict

    values = {"community": page.community, CATEGORY_FIELD[page.kind]: page.category,
              "severity": "medium", "urgency": "normal",
              "patrol.team": page.team, "patrol.volunteer_id": page.vid,
              # Without JavaScript a round is this page's and the next ones' (carried in the URL).
              "patrol.round": page.round or (str(uuid.uuid4()) if page.mode == "patrol" else "")}
    if page.kind == "consultation":
        values["mode"] = page.mode
    if page.spot:
        values.update({"location.spot": page.spot.code, "location.address": page.spot.name or None})
    return MultiDict({k: v for k, v in values.items() if v})


def _belongs(path: str, name: str) -> bool:
    # "location" (the whole group is missing) is shown at its first input, "location.address".
    return path == name or path.startswith(name + ".") or name.startswith(path + ".")


def _view(item, value: str, errors: list[str], locked: bool, lang: str) -> dict:
    choices = item.choices
    if choices == COMMUNITY:
        choices = {code: c.name for code, c in services().directory.communities.items()}
    options = [(code, _pick(label, lang)) for code, label in (choices or {}).items()]
    return {"name": item.name, "id": "f-" + item.name.replace(".", "-"), "label": _pick(item.label, lang),
            "widget": item.widget, "options": options, "value": value, "errors": errors,
            "required": item.required, "locked": locked, "hint": _pick(item.hint, lang) if item.hint else "",
            "shown": dict(options).get(value, value), "attrs": item.attrs}


@blueprint.after_request
def _compressed_scripts(response):
    """The pages' scripts gzipped for browsers that take it: a phone on one bar of signal loads a third."""
    if (request.endpoint not in ("pages.static", "pages.patrol_worker") or response.status_code != 200
            or "gzip" not in request.headers.get("Accept-Encoding", "")):
        return response
    response.direct_passthrough = False
    response.set_data(_gzipped(response.get_data()))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag:  # another body, another tag; and a browser revalidating that tag gets its 304
        response.set_etag(etag + "-gz", weak)
        response.make_conditional(request.environ)
    return response


@blueprint.after_request
def _vendored_kept(response):
    """Vendored libraries (Leaflet) never change under one URL (its `?v=` names the version), so browsers
    keep them a year instead of fetching them again: a map page's 46 KB are paid once."""
    filename = (request.view_args or {}).get("filename", "")
    if request.endpoint == "pages.static" and filename.startswith("vendor/") and response.status_code == 200:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@functools.lru_cache(maxsize=16)
def _gzipped(body: bytes) -> bytes:
    import gzip

    return gzip.compress(body, 9, mtime=0)


@blueprint.get("/f/patrol-sw.js")
def patrol_worker():
    """The patrol form's service worker, served under /f/ so that its scope can be /f/hazard."""
    from flask import send_from_directory

    response = send_from_directory(blueprint.static_folder, "patrol-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # a changed worker reaches the phones at their next visit
    return response


@blueprint.get("/thanks/<receipt>")
def thanks(receipt: str):
    parsed = parse_receipt(services().settings.secret_key, receipt)
    if parsed is None:
        abort(404)
    kind, receipt = parsed
    page = page_from(kind, request.args)
    # Only the browser that posted the form has the cookie: the receipt alone shows no feedback code.
    code = request.cookies.get(FEEDBACK_COOKIE, "")
    body = render_template("thanks.html", receipt=receipt, page=page, t=_texts(page.lang),
                           feedback_code=code if FEEDBACK_CODE.fullmatch(code) else "",
                           title=_pick(title(kind, page.mode), page.lang), again=page.form_url())
    response = _page(body, 200, page.lang)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(body: str, status: int, lang: str):
    from flask import make_response

    response = make_response(body, status)
    response.headers["Content-Language"] = "en" if lang == "en" else "zh-CN"
    response.headers["Cache-Control"] = "no-store"
    return response  # the security headers: functions/headers.py


def _pick(label, lang: str) -> str:
    return label.en if lang == "en" else label.zh


_TEXT = {
    "submit": ("提交", "Submit"),
    "sending": ("正在提交…", "Sending…"),
    "locate": ("使用我的位置", "Use my location"),
    "located": ("已获取位置", "Location added"),
    "required": ("必填", "required"),
    "photos_kept": ("已附照片：", "Photos attached: "),
    "check": ("请检查标红的内容。", "Please check the fields marked in red."),
    "thanks": ("提交成功，感谢您！", "Thank you, we have received it."),
    "receipt": ("回执码", "Receipt code"),
    "keep": ("请截图或记下回执码，凭它查询办理进度。", "Keep this code to follow the progress."),
    "feedback_code": ("评价码", "Feedback code"),
    "keep_private": ("办结后凭评价码评价办理效果。请记下评价码，不要告诉他人。",
                     "Once the case is resolved, this code lets you rate the outcome: note it down and keep it to "
                     "yourself."),
    "progress": ("查看办理进度", "See the progress"),
    "again": ("再报一条", "Report another"),
    "next": ("记录下一条发现", "Next finding"),
    "kept": ("已保存在手机上，联网后自动发送", "Saved on this phone; it will be sent when the network is back"),
    "waiting": ("{n} 条待发送", "{n} waiting to be sent"),
    "saving": ("已保存，正在发送…", "Saved; sending…"),
    "sent": ("已送达，回执码：", "Received by the office, receipt:"),
    "failed": ("未能受理，请核对后重新填写：", "Not accepted; check and file it again:"),
    "drop": ("知道了，删除", "Understood, delete"),
    "ready": ("本表单已可离线使用", "This form now works offline"),
    "new_round": ("开始新一轮巡查", "Start a new round"),
    "round_started": ("新一轮巡查已开始", "A new round has started"),
    "round": ("本轮已上报", "Findings this round:"),
    "status": ("办理进度", "Progress"),
    "not_found": ("没有这个回执码，请核对后重试。", "No such receipt; check the code and try again."),
    "lang": ("English", "中文"),
    "html_lang": ("zh-CN", "en"),
}


def _texts(lang: str) -> dict[str, str]:
    return {key: pair[1 if lang == "en" else 0] for key, pair in _TEXT.items()}
