"""`ses` (e-mail) and `sns` (SMS) through boto3; MINQING_AWS_ENDPOINT_URL points at any compatible service.

boto3 is imported on first use (the `aws` extra); credentials come from boto3's usual chain (environment,
profile, instance role), never from the directory.
"""

from __future__ import annotations

import threading

from workers.channels.base import options_of
from workers.channels.formats import html_message, plain_message
from workers.channels.http import ChannelError


class _AWSChannel:
    in_process = False
    service = ""

    def __init__(self, settings):
        self.settings = settings
        self._local = threading.local()  # boto3 clients are thread-safe, sessions are not: one per thread

    def client(self):
        if getattr(self._local, "client", None) is None:
            import boto3
            from botocore.config import Config

            timeout = self.settings.channel_timeout_s
            self._local.client = boto3.session.Session().client(
                self.service,
                endpoint_url=self.settings.aws_endpoint_url,
                region_name=self.settings.aws_region,
                # Retrying is the outbox's job; botocore's own retries would hide failures and delay fallback.
                config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1}),
            )
        return self._local.client

    def quota_key(self, recipient) -> None:
        return None


class SESChannel(_AWSChannel):
    name = "ses"
    service = "ses"

    def send(self, recipient, notice) -> str:
        if not self.settings.ses_from:
            raise ChannelError("MINQING_SES_FROM must be set for SES e-mail")
        answer = self.client().send_email(
            Source=self.settings.ses_from,
            Destination={"ToAddresses": [options_of(recipient, self.name)["to"]]},
            Message={
                "Subject": {"Data": notice.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": plain_message(notice), "Charset": "UTF-8"},
                    "Html": {"Data": html_message(notice), "Charset": "UTF-8"},
                },
            },
        )
        return answer["MessageId"]


class SNSChannel(_AWSChannel):
    name = "sns"
    service = "sns"

    def send(self, recipient, notice) -> str:
        phone = options_of(recipient, self.name)["phone"]
        if not phone.startswith("+"):
            phone = "+86" + phone  # E.164, as SNS wants; the directory lists mainland mobiles without it
        answer = self.client().publish(PhoneNumber=phone, Message=f"{notice.subject}\n{plain_message(notice)}")
        return answer["MessageId"]
