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


def authenticated_staff():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
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
