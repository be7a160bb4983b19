"""The `log` channel: notifications written to the log, for demos and staff with no channel configured."""

from __future__ import annotations

import json
import logging

log = logging.getLogger("minqing.notify")


class LogChannel:
    name = "log"
    in_process = True  # a log line: sent by the actor that made the notice, with no message of its own

    def send(self, recipient, notice) -> str:
        # JSON keeps a report's newlines and control characters from forging log lines.
        log.info(
            "notify %s",
            json.dumps(
                {"to": recipient.id, "name": recipient.name, "subject": notice.subject, "body": notice.body},
                ensure_ascii=False,
            ),
        )
        return f"log-{notice.id}"

    def quota_key(self, recipient) -> None:
        return None
