"""Staff authentication: a bearer token names a staff member, whose role the directory gives."""

from __future__ import annotations

import functools

from flask import g, request

from functions.services import services
from functions.problems import Problem

NO_TOKEN = ("请使用工作人员令牌登录（Authorization: Bearer …）。", "Sign in with a staff token (Authorization: Bearer …).")
BAD_TOKEN = ("令牌无效、已撤销或已过期。", "The token is invalid, revoked or expired.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="minqing"'}


def staff_required(view):
    """Run `view` only for a staff member with a live token; `g.staff` is their directory entry."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        g.staff = authenticated_staff()
        return view(*args, **kwargs)

    checked.staff_only = True
    return checked


SESSION_COOKIE = "mq_staff"


def authenticated_staff():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header and request.method in ("GET", "HEAD") and request.cookies.get(SESSION_COOKIE):
        # The console's exports are links: a signed-in browser reads with its session. Only reads: a POST
        # with a cookie and no CSRF token is what a cross-site form would send.
        found = session_staff()
        if found is not None:
            return found[0]
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthenticated", NO_TOKEN, headers=CHALLENGE)
    svc = services()
    from minqing.store import tokens

    with svc.engine.connect() as connection:
        staff_id = tokens.staff_for(connection, token.strip())
    staff = svc.directory.staff.get(staff_id) if staff_id else None
    if staff is None:
        # A token for someone no longer in the directory opens nothing either.
        raise Problem(401, "invalid-token", BAD_TOKEN, headers={**CHALLENGE, "WWW-Authenticate":
                                                                'Bearer realm="minqing", error="invalid_token"'})
    return staff


def session_staff():
    """(staff, session row) for the console's session cookie, if the session is live and its holder is
    still in the directory and not revoked (every session of theirs ends then); else None."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie or len(cookie) > 100:
        return None
    from datetime import timedelta

    from minqing.store import sessions, tokens

    svc = services()
    idle = timedelta(minutes=svc.settings.session_idle_minutes)
    with svc.engine.begin() as connection:
        row = sessions.live(connection, cookie, idle=idle)
        if row is None:
            return None
        staff = svc.directory.staff.get(row.staff_id)
        if staff is None or tokens.staff_revoked(connection, row.staff_id):
            sessions.end_all(connection, row.staff_id)
            return None
    return staff, row
