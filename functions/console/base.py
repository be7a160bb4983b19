"""What every console page shares: the blueprint, the session check, CSRF, rendering."""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import Blueprint, g, redirect, render_template, request, url_for

from functions.auth import session_staff
from functions.console.texts import TEXTS
from functions.problems import pick_lang
from functions.services import services
from minqing.domain import signin
from minqing.domain.tallies import OFFICE_TZ

blueprint = Blueprint("console", __name__, template_folder="../templates")

# Before a session exists (the sign-in forms), CSRF is a double-submitted cookie: a cross-site form cannot
# read it, so it cannot sign a member of staff in as someone else (login CSRF).
PRE_SESSION_COOKIE = "mq_signin"
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def lang() -> str:
    return pick_lang(services().settings.default_lang)


def page(template: str, status: int = 200, **context):
    """A console page: its texts, the signed-in member (if any), the CSRF token, never cached."""
    language = lang()
    html = render_template(f"staff/{template}", t=TEXTS[language], lang=language, me=g.get("staff"),
                           csrf=g.get("csrf", ""), en=language == "en", tz=OFFICE_TZ, **context)
    return html, status, {**NO_STORE, "Content-Language": language}


def community_name(code: str | None, language: str) -> str:
    found = services().directory.communities.get(code or "")
    if found is None:
        return code or ""
    return found.name.en if language == "en" else found.name.zh


def cookie_flags() -> dict:
    return {"httponly": True, "secure": signin.secure_cookie(services().settings.base_url), "samesite": "Lax",
            "path": "/"}


def staff_page(view):
    """Run `view` for a signed-in member of staff (`g.staff`, `g.csrf`); else to the sign-in page."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        found = session_staff()
        if found is None:
            target = request.full_path if request.method == "GET" else "/staff/"
            return redirect(url_for("console.sign_in", next=target.rstrip("?"), **lang_arg()))
        g.staff, g.session = found
        g.csrf = g.session.csrf
        if request.method == "POST" and not csrf_ok(g.csrf):
            return csrf_refused()
        return view(*args, **kwargs)

    return checked


def lang_arg() -> dict:
    return {"lang": "en"} if lang() == "en" else {}


def csrf_ok(expected: str) -> bool:
    given = request.form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def csrf_refused():
    return page("message.html", 403, message=TEXTS[lang()]["csrf"])


def pre_session_token() -> str:
    """The sign-in forms' CSRF token (set as a cookie by `remember_pre_session`)."""
    token = request.cookies.get(PRE_SESSION_COOKIE, "")
    if len(token) < 20 or len(token) > 64:
        token = g.get("new_pre_session") or secrets.token_urlsafe(24)
        g.new_pre_session = token
    g.csrf = token
    return token


@blueprint.after_request
def remember_pre_session(response):
    if g.get("new_pre_session"):
        response.set_cookie(PRE_SESSION_COOKIE, g.new_pre_session, max_age=3600, **cookie_flags())
    return response

