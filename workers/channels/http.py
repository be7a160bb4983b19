"""JSON over HTTP for the robot and webhook channels (stdlib urllib; one POST, no retries, no redirects)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class ChannelError(Exception):
    """The peer refused or failed the message; Dramatiq retries it, then the next channel is tried."""


class ChannelTimeout(ChannelError):
    """The peer did not answer in time (see workers/channels/breaker.py)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A robot or webhook URL names the one peer trusted with the message (and the URL's token): a 30x would
    # send it, or a GET carrying the token, wherever the answer says. None is followed, not even on the
    # same host: a moved robot is a configuration to fix, and the failure says so.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        fp.close()
        raise ChannelError(f"HTTP {code} from {_host(req.full_url)}: a redirect to {_host(newurl) or 'the same host'}"
                           " is not followed; check the channel's URL")


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, payload: dict | bytes, *, timeout: float, headers: dict | None = None) -> dict:
    """POST `payload` (a dict, or JSON already encoded); the parsed answer ({} if not JSON). Raises ChannelError."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        raise ChannelError(f"HTTP {error.code} from {_host(url)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        failure = ChannelTimeout if isinstance(reason, TimeoutError) else ChannelError
        raise failure(f"{_host(url)} unreachable: {reason}") from None
    try:
        return json.loads(answer or b"{}")
    except ValueError:
        return {}


def robot_answer(answer: dict, host_hint: str) -> None:
    """WeCom and DingTalk answer 200 with {"errcode": 0} on success and a non-zero errcode otherwise."""
    if answer.get("errcode", 0) != 0:
        raise ChannelError(f"{host_hint} refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


def _host(url: str) -> str:
    # Robot URLs carry their access token in the query: never put a whole URL in an error or a log.
    return urllib.request.urlparse(url).netloc
