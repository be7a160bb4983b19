"""Signing staff in from the chat apps they work in: the app's OAuth code exchanged for the member's id there.

- 企业微信网页授权 (snsapi_base): `gettoken` (corp id + the app's secret), then `auth/getuserinfo` (token +
  code) gives the userid.
- 钉钉 (DingTalk) 网页登录 (OAuth 2, scope `openid corpid`): `oauth2/userAccessToken` (app key + secret +
  code) gives the user's token and the organisation they chose, `contact/users/me` their unionId, and the
  organisation's `topapi/user/getbyunionid` (with the app's own token from `gettoken`) the userid the
  directory knows.

App tokens are kept until shortly before they expire. Every base URL is a setting, so tests run against
local peers (`minqing/testing/peers.py`).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# DingTalk's "no such user" (找不到该用户) when the unionId is not in the organisation.
DINGTALK_NO_SUCH_USER = 60121


class SignInRefused(Exception):
    """The chat app refused or could not be reached; nobody is signed in. `unreachable`: it did not answer;
    `outsider`: it answered that the person is not of the organisation."""

    def __init__(self, message: str, *, unreachable: bool = False, outsider: bool = False, errcode=None):
        super().__init__(message)
        self.unreachable, self.outsider, self.errcode = unreachable, outsider, errcode


_tokens: dict[tuple, tuple[str, float]] = {}
_lock = threading.Lock()


def _call(app: str, url: str, *, params: dict | None = None, body: dict | None = None,
          headers: dict | None = None, timeout: float) -> dict:
    """One JSON call; WeCom and DingTalk's old API answer errors as `errcode`, DingTalk's new one as HTTP 4xx
    with a `code`."""
    full = f"{url}?{urllib.parse.urlencode(params)}" if params else url
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(full, data=data, headers={
        **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise SignInRefused(f"{app} refused: HTTP {error.code}") from None
    except (OSError, ValueError) as error:
        raise SignInRefused(f"{app} unreachable: {type(error).__name__}", unreachable=True) from None
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        errcode = answer.get("errcode") if isinstance(answer, dict) else None
        raise SignInRefused(f"{app} refused: errcode {errcode if errcode is not None else '?'}", errcode=errcode)
    return answer


def _app_token(key: tuple, fetch) -> str:
    """An app's access token, fetched once and kept until five minutes before it expires (both last 7200 s)."""
    with _lock:
        cached = _tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    token, expires_in = fetch()
    if not isinstance(token, str) or not token:
        raise SignInRefused(f"{key[0]} gave no access token")
    with _lock:
        _tokens[key] = (token, time.monotonic() + max(60, int(expires_in or 7200) - 300))
    return token


def wecom_userid(settings, code: str, *, timeout: float = 5.0) -> str:
    """The WeCom userid behind an OAuth `code`; SignInRefused if there is none (an outsider, an expired code)."""
    def fetch():
        body = _call("WeCom", f"{settings.wecom_api_url}/cgi-bin/gettoken", timeout=timeout,
                     params={"corpid": settings.wecom_corp_id, "corpsecret": settings.wecom_secret})
        return body.get("access_token"), body.get("expires_in")

    token = _app_token(("WeCom", settings.wecom_api_url, settings.wecom_corp_id), fetch)
    body = _call("WeCom", f"{settings.wecom_api_url}/cgi-bin/auth/getuserinfo", timeout=timeout,
                 params={"access_token": token, "code": code})
    userid = body.get("userid") or body.get("UserId")
    if not isinstance(userid, str) or not userid:
        raise SignInRefused("not a member of the corp", outsider=True)
    return userid


def dingtalk_userid(settings, code: str, *, timeout: float = 5.0) -> str:
    """The DingTalk userid behind a login `authCode`, in the organisation the settings name; SignInRefused
    for a person of another organisation, or of none."""
    grant = _call("DingTalk", f"{settings.dingtalk_api_url}/v1.0/oauth2/userAccessToken", timeout=timeout,
                  body={"clientId": settings.dingtalk_app_key, "clientSecret": settings.dingtalk_app_secret,
                        "code": code, "grantType": "authorization_code"})
    if not isinstance(grant.get("accessToken"), str):
        raise SignInRefused("DingTalk gave no user token")
    # The person chooses an organisation on DingTalk's page; only ours may sign in.
    if settings.dingtalk_corp_id and grant.get("corpId") != settings.dingtalk_corp_id:
        raise SignInRefused("signed in for another organisation", outsider=True)
    me = _call("DingTalk", f"{settings.dingtalk_api_url}/v1.0/contact/users/me", timeout=timeout,
               headers={"x-acs-dingtalk-access-token": grant["accessToken"]})
    if not isinstance(me.get("unionId"), str) or not me["unionId"]:
        raise SignInRefused("DingTalk gave no unionId")

    def fetch():
        body = _call("DingTalk", f"{settings.dingtalk_oapi_url}/gettoken", timeout=timeout,
                     params={"appkey": settings.dingtalk_app_key, "appsecret": settings.dingtalk_app_secret})
        return body.get("access_token"), body.get("expires_in")

    token = _app_token(("DingTalk", settings.dingtalk_oapi_url, settings.dingtalk_app_key), fetch)
    try:
        found = _call("DingTalk", f"{settings.dingtalk_oapi_url}/topapi/user/getbyunionid", timeout=timeout,
                      params={"access_token": token}, body={"unionid": me["unionId"]})
    except SignInRefused as refused:
        if refused.errcode == DINGTALK_NO_SUCH_USER:
            raise SignInRefused("not a member of the organisation", outsider=True) from None
        raise
    userid = (found.get("result") or {}).get("userid")
    if not isinstance(userid, str) or not userid:
        raise SignInRefused("not a member of the organisation", outsider=True)
    return userid
