"""The staff console's one-time sign-in link, sent to the member's own mailbox or phone on request.

Only direct channels: e-mail (SMTP, SES) and SMS (SNS). Never a group robot or a webhook, which may post to
a group: whoever reads the link can sign in as its owner. A redelivered message sends a new link; each works
once and for 15 minutes, so a second one is harmless.
"""

from __future__ import annotations

import logging

from minqing.store import sessions
from workers.channels.base import Link, Notice
from workers.registry import actor, runtime

log = logging.getLogger("minqing.console")

DIRECT_CHANNELS = ("smtp", "ses", "sns")
TEXTS = {
    "zh-CN": ("【民情】工作台登录链接", "请在15分钟内打开以下链接登录民情工作台（只能使用一次），或在登录页输入验证码 {code}。"
              "如非本人操作，请忽略本消息。", "登录工作台"),
    "en": ("[minqing] Your sign-in link", "Open this link within 15 minutes to sign in to the minqing console (it "
           "works once), or enter the code {code} on the sign-in page. If you did not ask for it, ignore this.",
           "Sign in"),
}


@actor
def send_sign_in_link(staff_id: str, lang: str = "zh-CN") -> None:
    rt = runtime()
    staff = rt.directory.staff.get(staff_id)
    channel = staff and next((c.type for c in staff.channels if c.type in DIRECT_CHANNELS and c.type in rt.channels),
                             None)
    if channel is None:
        log.info("sign-in link for %s not sent: no direct channel", staff_id)
        return
    with rt.engine.begin() as connection:
        made = sessions.create_link(connection, staff_id)
    subject, body, button = TEXTS["en" if lang == "en" else "zh-CN"]
    url = f"{rt.settings.base_url}/staff/sign-in/link/{made.token}"
    notice = Notice(id=0, recipient=staff_id, event="sign-in", subject=subject,
                    body=body.format(code=made.code) + "\n" + url, links=(Link(button, url),))
    rt.channels[channel].send(staff, notice)
