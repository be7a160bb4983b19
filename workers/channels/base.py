"""What every notification channel shares: the notice it sends, its interface, and the recipient's options."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping, Protocol

# Channels whose messages reach a group (or another system): they only ever get masked text.
GROUP_CHANNELS = frozenset({"log", "wecom", "dingtalk", "webhook"})


# Group robots: a one-tap link they post can be opened by anyone in the group (see group_of).
ROBOT_CHANNELS = frozenset({"wecom", "dingtalk"})


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Notice:
    """One notification as a channel sends it: plain text (each channel escapes it), plus action links."""

    id: int
    recipient: str
    event: str
    subject: str
    body: str
    links: tuple[Link, ...] = ()


class Channel(Protocol):
    name: str
    # True when sending reaches nothing outside this process (the log), so it cannot hang or fail on a
    # network; such a notice is sent by the actor that made it rather than through a message of its own.
    in_process: bool

    def send(self, recipient, notice: Notice) -> str:
        """Send to `recipient` (a directory Staff), returning the provider's message id; raise to retry."""

    def quota_key(self, recipient) -> str | None:
        """What the provider's rate limit counts (a robot), or None if it sets none we must keep."""


def robot_quota_key(kind: str, settings, webhook_env: str) -> str:
    """A robot's rate-limit key: the robot itself (a digest of its URL, which holds its secret), so robots
    configured under the same variable name elsewhere on a shared Redis do not share a quota."""
    try:
        url = settings.credential(webhook_env)
    except LookupError:
        return f"{kind}:{webhook_env}"  # sending will fail and say why; the quota is moot
    return f"{kind}:{hashlib.sha256(url.encode()).hexdigest()[:20]}"


def options_of(recipient, channel_type: str) -> Mapping[str, str]:
    for channel in recipient.channels:
        if channel.type == channel_type:
            return channel.options
    raise LookupError(f"staff {recipient.id} has no {channel_type} channel")


def group_of(recipient, channel_type: str) -> str:
    """The group a notice to `recipient` on `channel_type` is posted to, as the case history names it
    ("wecom-group:<group>", the channel's `group` option or else its `webhook_env`); "" for a channel that
    reaches the recipient alone."""
    if channel_type not in ROBOT_CHANNELS:
        return ""
    options = options_of(recipient, channel_type)
    return f"{channel_type}-group:{options.get('group') or options.get('webhook_env', '')}"
