"""Sign-in rules for the staff console (工作台): no passwords, one-time links and codes, expiring sessions (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

LINK_MINUTES = 15
# A 6-digit code has a million values: it is bound to one staff member and dies after this many wrong tries.
CODE_ATTEMPTS = 5
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def secure_cookie(base_url: str) -> bool:
    """Whether the session cookie is `Secure`: always, except for plain HTTP on this machine (trials, tests)."""
    parts = urlsplit(base_url)
    return not (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)


def session_live(row, at: datetime, idle: timedelta) -> bool:
    """A session lasts until it is ended, its absolute expiry, or `idle` without a request."""
    return row.ended_at is None and row.expires_at > at and row.seen_at + idle > at


def link_usable(row, at: datetime) -> bool:
    return row.used_at is None and row.expires_at > at and row.attempts < CODE_ATTEMPTS


def wecom_authorize_url(open_url: str, corp_id: str, redirect_uri: str, state: str, agent_id: str = "") -> str:
    """企业微信网页授权 (snsapi_base): where the console sends a browser opened inside WeCom."""
    query = {"appid": corp_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": "snsapi_base",
             "state": state}
    if agent_id:
        query["agentid"] = agent_id
    return f"{open_url.rstrip('/')}/connect/oauth2/authorize?{urlencode(query)}#wechat_redirect"


def dingtalk_authorize_url(login_url: str, app_key: str, redirect_uri: str, state: str) -> str:
    """钉钉网页登录 (OAuth 2): the person confirms on DingTalk's page (or in the app, scanning or tapping) and
    picks the organisation (`corpid` scope), and DingTalk sends the browser back with an `authCode`."""
    query = {"redirect_uri": redirect_uri, "response_type": "code", "client_id": app_key,
             "scope": "openid corpid", "state": state, "prompt": "consent"}
    return f"{login_url.rstrip('/')}/oauth2/auth?{urlencode(query)}"


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of the console only, never another site."""
    if path and path.startswith("/staff/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/staff/"
