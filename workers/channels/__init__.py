"""Notification channels: one small interface, one module per channel, chosen by name."""

from __future__ import annotations

from typing import Protocol


class Delivery(Protocol):
    """What a channel needs to send one notification (an outbox row)."""

    id: int
    recipient: str
    subject: str
    body: str


class Channel(Protocol):
    name: str

    def send(self, recipient, delivery: Delivery) -> str:
        """Send, returning the provider's message id; raise to have the delivery retried."""


def make_channels(settings) -> dict[str, Channel]:
    from workers.channels.log import LogChannel

    return {"log": LogChannel()}
