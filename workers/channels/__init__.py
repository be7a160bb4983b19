"""Notification channels: one small interface, one module per channel, chosen by the staff member's `type`."""

from __future__ import annotations

from workers.channels.base import Channel


def make_channels(settings) -> dict[str, Channel]:
    from workers.channels.dingtalk import DingTalkChannel
    from workers.channels.log import LogChannel
    from workers.channels.ses import SESChannel, SNSChannel
    from workers.channels.smtp import SMTPChannel
    from workers.channels.webhook import WebhookChannel
    from workers.channels.wecom import WeComChannel

    channels = (LogChannel(), SMTPChannel(settings), WeComChannel(settings), DingTalkChannel(settings),
                WebhookChannel(settings), SESChannel(settings), SNSChannel(settings))
    return {channel.name: channel for channel in channels}
