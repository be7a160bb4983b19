"""Signing in to the console without passwords: a one-time link (GET shows, POST signs in), a 6-digit
code, or the OAuth of WeCom or DingTalk; signing out."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from typing import NamedTuple

from flask import g, redirect, request, url_for

from functions.auth import SESSION_COOKIE, session_staff
from functions.console.base import (
    PRE_SESSION_COOKIE,
    blueprint,
    cookie_flags,
    csrf_ok,
    csrf_refused,
    lang,
    lang_arg,
    page,
    pre_session_token,
    staff_page,
)
from functions.console.texts import TEXTS
from functions.services import services
from minqing import chat_signin
from minqing.domain import signin

log = logging.getLogger("minqing.console")


def _signed_in(staff_id: str, via: str, next_path: str | None):
    """Start a session for `staff_id` unless an administrator revoked them, and go on to `next_path`."""
    from minqing.store import sessions, tokens

    svc = services()
    with svc.engine.begin() as connection:
        if svc.directory.staff.get(staff_id) is None or tokens.staff_revoked(connection, staff_id):
            return None
        cookie, _ = sessions.start(connection, staff_id, via=via, hours=svc.settings.session_hours)
    response = redirect(signin.safe_next(next_path), 303)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(svc.settings.session_hours * 3600), **cookie_flags())
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")
    return response


def _pre_session_ok() -> bool:
    return csrf_ok(request.cookies.get(PRE_SESSION_COOKIE, ""))


@blueprint.get("/staff/sign-in")
def sign_in():
    if session_staff() is not None:
        return redirect(signin.safe_next(request.args.get("next")))
    pre_session_token()
    return page("sign_in.html", next=signin.safe_next(request.args.get("next")), apps=_chat_apps(), error=None)


@blueprint.post("/staff/sign-in/code")
def sign_in_by_code():
    if not _pre_session_ok():
        return csrf_refused()
    from minqing.store import sessions

    staff_id = request.form.get("staff", "").strip().lower()[:40]
    code = request.form.get("code", "").strip()[:6]
    with services().engine.begin() as connection:
        ok = staff_id in services().directory.staff and code.isdigit() and sessions.redeem_code(connection, staff_id, code)
    signed = ok and _signed_in(staff_id, "code", request.form.get("next"))
    if signed:
        return signed
    pre_session_token()
    return page("sign_in.html", 403 if ok else 401, next=signin.safe_next(request.form.get("next")),
                apps=_chat_apps(),
                error=TEXTS[lang()]["revoked" if ok else "code_bad"], staff_value=staff_id)


@blueprint.post("/staff/sign-in/send")
def send_link():
    """Ask for a link by staff id: it goes to the member's own e-mail or SMS. The answer is the same whether
    the id exists or not, so the form tells nobody who works here."""
    if not _pre_session_ok():
        return csrf_refused()
    from workers.brokers import SEND_SIGN_IN_LINK

    staff_id = request.form.get("staff", "").strip().lower()[:40]
    if staff_id in services().directory.staff:
        try:
            services().enqueue(SEND_SIGN_IN_LINK, staff_id, lang())
        except Exception:
            log.warning("queue unavailable for a sign-in link", exc_info=True)
            return page("message.html", 503, message=TEXTS[lang()]["send_failed"])
    pre_session_token()
    return page("sign_in.html", next="/staff/", apps=_chat_apps(), error=None,
                sent=TEXTS[lang()]["sent"])


@blueprint.get("/staff/sign-in/link/<token>")
def confirm_link(token: str):
    """What a preview fetch sees too: a button, not a session; the link stays usable until the POST."""
    from minqing.store import sessions

    with services().engine.connect() as connection:
        staff_id = sessions.link_staff(connection, token[:100])
    staff = staff_id and services().directory.staff.get(staff_id)
    if not staff:
        return page("message.html", 410, message=TEXTS[lang()]["link_bad"])
    pre_session_token()
    return page("confirm.html", name=staff.name, action=url_for("console.use_link", token=token, **lang_arg()))


@blueprint.post("/staff/sign-in/link/<token>")
def use_link(token: str):
    if not _pre_session_ok():
        return csrf_refused()
    from minqing.store import sessions

    with services().engine.begin() as connection:
        staff_id = sessions.redeem_link(connection, token[:100])
    signed = staff_id and _signed_in(staff_id, "link", "/staff/")
    if signed:
        return signed
    return page("message.html", 410, message=TEXTS[lang()]["revoked" if staff_id else "link_bad"])


class ChatApp(NamedTuple):
    """A chat app staff sign in from: whether it is set up, where to send the browser, how its answer becomes
    a userid, and whom the directory knows by that id."""

    configured: Callable[[object], bool]
    authorize_url: Callable[[object, str, str], str]
    userid: Callable[[object, str], str]
    staff: Callable[[object, str], object]
    code_params: tuple[str, ...]


CHAT_APPS = {
    "wecom": ChatApp(
        configured=lambda s: bool(s.wecom_corp_id),
        authorize_url=lambda s, back, state: signin.wecom_authorize_url(s.wecom_open_url, s.wecom_corp_id, back,
                                                                        state, s.wecom_agent_id),
        userid=chat_signin.wecom_userid, staff=lambda d, userid: d.staff_by_wecom(userid), code_params=("code",)),
    "dingtalk": ChatApp(
        configured=lambda s: bool(s.dingtalk_app_key),
        authorize_url=lambda s, back, state: signin.dingtalk_authorize_url(s.dingtalk_login_url, s.dingtalk_app_key,
                                                                           back, state),
        userid=chat_signin.dingtalk_userid, staff=lambda d, userid: d.staff_by_dingtalk(userid),
        code_params=("authCode", "code")),
}


def _chat_apps() -> dict:
    """The sign-in page's buttons: which chat apps are set up."""
    settings = services().settings
    return {name: app.configured(settings) for name, app in CHAT_APPS.items()}


@blueprint.get("/staff/sign-in/<app>")
def chat_start(app: str):
    settings, chat = services().settings, CHAT_APPS.get(app)
    if chat is None or not chat.configured(settings):
        return page("message.html", 404, message=TEXTS[lang()][f"{app}_off" if chat else "not_found_page"])
    state = secrets.token_urlsafe(16)
    back = settings.base_url + url_for("console.chat_return", app=app)
    response = redirect(chat.authorize_url(settings, back, state), 302)
    # The state ties the app's answer to this browser; `next` rides along in the same cookie.
    next_path = signin.safe_next(request.args.get("next"))
    response.set_cookie(_state_cookie(app), f"{state} {next_path}", max_age=600, **cookie_flags())
    return response


@blueprint.get("/staff/sign-in/<app>/return")
def chat_return(app: str):
    svc, texts, chat = services(), TEXTS[lang()], CHAT_APPS.get(app)
    if chat is None:
        return page("message.html", 404, message=texts["not_found_page"])
    state, _, next_path = request.cookies.get(_state_cookie(app), "").partition(" ")
    given = request.args.get("state", "")
    code = next((request.args[name] for name in chat.code_params if request.args.get(name)), "")
    if not chat.configured(svc.settings):
        return page("message.html", 404, message=texts[f"{app}_off"])
    if not state or not hmac.compare_digest(state.encode(), given.encode()) or not code:
        return csrf_refused()
    try:
        userid = chat.userid(svc.settings, code[:512])
    except chat_signin.SignInRefused as error:
        log.warning("%s sign-in refused: %s", app, error)
        return page("message.html", 502 if error.unreachable else 403,
                    message=texts[f"{app}_unknown" if error.outsider else f"{app}_failed"])
    staff = chat.staff(svc.directory, userid)
    signed = staff and _signed_in(staff.id, app, next_path)
    if not signed:
        return page("message.html", 403, message=texts["revoked" if staff else f"{app}_unknown"])
    signed.delete_cookie(_state_cookie(app), path="/")
    return signed


def _state_cookie(app: str) -> str:
    return f"mq_{app}_state"


@blueprint.post("/staff/sign-out")
@staff_page
def sign_out():
    from minqing.store import sessions

    with services().engine.begin() as connection:
        sessions.end(connection, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("console.sign_in", **lang_arg()), 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    g.staff = None
    return response
