"""`webhook`: a JSON POST to another system, signed so it can tell the message is ours.

Options: `url_env` (where to post), `secret_env` (the shared secret). The signature header is
`X-Minqing-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, with `X-Minqing-Timestamp`
(seconds); receivers should refuse old timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from workers.channels.base import options_of
from workers.channels.http import post_json


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookChannel:
    name = "webhook"
    in_process = False

    def __init__(self, settings):
        self.settings = settings

    def send(self, recipient, notice) -> str:
        options = options_of(recipient, self.name)
        url = self.settings.credential(options["url_env"])
        secret = self.settings.credential(options["secret_env"])
        payload = {
            "id": notice.id,
            "event": notice.event,
            "recipient": recipient.id,
            "subject": notice.subject,
            "body": notice.body,
            "links": [{"label": link.label, "url": link.url} for link in notice.links],
        }
        # Sign exactly the bytes sent: serialise once here, post those.
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"X-Minqing-Timestamp": timestamp, "X-Minqing-Signature": signature(secret, timestamp, body)}
        post_json(url, body, timeout=self.settings.channel_timeout_s, headers=headers)
        return f"webhook-{notice.id}"

    def quota_key(self, recipient) -> None:
        return None
