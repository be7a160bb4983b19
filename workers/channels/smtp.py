"""`smtp`: e-mail through any SMTP server (STARTTLS, SSL or plain; AUTH when a user is set).

Options: `to` (the staff member's address). Server, sender and credentials come from settings.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from workers.channels import options_of
from workers.channels.formats import html_message, plain_message
from workers.channels.http import ChannelError


def compose(sender: str, to: str, name: str, notice) -> EmailMessage:
    """A multipart/alternative message: plain text first, then the same as simple HTML."""
    message = EmailMessage()
    message["Subject"] = notice.subject  # non-ASCII headers are RFC 2047-encoded by the email package
    message["From"] = sender
    message["To"] = formataddr((name, to))
    message["Message-ID"] = make_msgid(idstring=f"minqing-{notice.id}", domain=sender.rpartition("@")[2] or None)
    message.set_content(plain_message(notice))
    message.add_alternative(html_message(notice), subtype="html")
    return message


class SMTPChannel:
    name = "smtp"

    def __init__(self, settings):
        self.settings = settings

    def send(self, recipient, notice) -> str:
        settings = self.settings
        if not settings.smtp_host or not settings.smtp_from:
            raise ChannelError("MINQING_SMTP_HOST and MINQING_SMTP_FROM must be set for e-mail")
        message = compose(settings.smtp_from, options_of(recipient, self.name)["to"], recipient.name, notice)
        context = ssl.create_default_context()
        timeout = settings.channel_timeout_s
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with client:
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            client.send_message(message)
        return message["Message-ID"]

    def quota_key(self, recipient) -> None:
        return None
