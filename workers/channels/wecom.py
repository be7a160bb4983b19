"""`wecom`: a WeCom (企业微信) group robot, markdown message. Options: `webhook_env` (the robot's URL)."""

from __future__ import annotations

from workers.channels.base import options_of, robot_quota_key
from workers.channels.formats import markdown_message
from workers.channels.http import post_json, robot_answer


class WeComChannel:
    name = "wecom"
    in_process = False

    def __init__(self, settings):
        self.settings = settings

    def send(self, recipient, notice) -> str:
        url = self.settings.credential(options_of(recipient, self.name)["webhook_env"])
        answer = post_json(url, {"msgtype": "markdown", "markdown": {"content": markdown_message(notice)}},
                              timeout=self.settings.channel_timeout_s)
        robot_answer(answer, "WeCom robot")
        # The robot API returns no message id; the outbox id names the message in our records.
        return f"wecom-{notice.id}"

    def quota_key(self, recipient) -> str:
        return robot_quota_key("wecom", self.settings, options_of(recipient, self.name)["webhook_env"])
