"""`dingtalk`: a DingTalk (钉钉) group robot with signed requests, markdown message.

Options: `webhook_env` (the robot's URL with its access_token), `secret_env` (the robot's signing secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

from workers.channels.base import options_of, robot_quota_key
from workers.channels.formats import markdown_message
from workers.channels.http import post_json, robot_answer


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalkChannel:
    name = "dingtalk"
    in_process = False

    def __init__(self, settings):
        self.settings = settings

    def send(self, recipient, notice) -> str:
        options = options_of(recipient, self.name)
        url = self.settings.credential(options["webhook_env"])
        if "secret_env" in options:
            timestamp = int(time.time() * 1000)
            secret = self.settings.credential(options["secret_env"])
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign(secret, timestamp)}"
        payload = {"msgtype": "markdown", "markdown": {"title": notice.subject, "text": markdown_message(notice)}}
        answer = post_json(url, payload, timeout=self.settings.channel_timeout_s)
        robot_answer(answer, "DingTalk robot")
        return f"dingtalk-{notice.id}"

    def quota_key(self, recipient) -> str:
        return robot_quota_key("dingtalk", self.settings, options_of(recipient, self.name)["webhook_env"])
