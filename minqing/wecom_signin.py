"""企业微信网页授权 (snsapi_base): exchange the code WeCom returns for the member's userid.

Two calls: `gettoken` (corp id + the app's secret; the token is kept until shortly before it expires) and
`auth/getuserinfo` (token + code). The API base URL is a setting, so tests run against a local peer.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request


class WeComError(Exception):
    """WeCom refused or could not be reached; nobody is signed in."""


_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_lock = threading.Lock()


def _get(url: str, params: dict, timeout: float) -> dict:
    full = f"{url}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(full, timeout=timeout) as response:  # noqa: S310 (a configured https URL)
            body = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as error:
        raise WeComError(f"WeCom unreachable: {type(error).__name__}") from None
    if not isinstance(body, dict) or body.get("errcode", 0) != 0:
        raise WeComError(f"WeCom refused: errcode {body.get('errcode') if isinstance(body, dict) else '?'}")
    return body


def access_token(settings, *, timeout: float = 5.0) -> str:
    key = (settings.wecom_api_url, settings.wecom_corp_id)
    with _lock:
        cached = _tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    body = _get(f"{settings.wecom_api_url}/cgi-bin/gettoken",
                {"corpid": settings.wecom_corp_id, "corpsecret": settings.wecom_secret}, timeout)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise WeComError("WeCom gave no access token")
    with _lock:
        # Renewed five minutes early: WeCom's tokens last 7200 s.
        _tokens[key] = (token, time.monotonic() + max(60, int(body.get("expires_in", 7200)) - 300))
    return token


def userid_for(settings, code: str, *, timeout: float = 5.0) -> str:
    """The WeCom userid behind an OAuth `code`; WeComError if there is none (an outsider, an expired code)."""
    body = _get(f"{settings.wecom_api_url}/cgi-bin/auth/getuserinfo",
                {"access_token": access_token(settings, timeout=timeout), "code": code}, timeout)
    userid = body.get("userid") or body.get("UserId")
    if not isinstance(userid, str) or not userid:
        raise WeComError("not a member of the corp")
    return userid
