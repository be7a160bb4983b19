"""Signed one-tap links (一键处理): acknowledge or resolve a case straight from a notification.

A link carries (case, assignee, action, expiry) signed with the secret key (HMAC-SHA256 via itsdangerous),
so it cannot be altered, runs out, and only names the staff member it was sent to.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

ACTIONS = ("acknowledge", "resolve")
_SALT = "minqing.one-tap.v1"


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: `staff_id` may do `action` to `submission_id` until `expires_at` (epoch s)."""

    submission_id: str
    staff_id: str
    action: str
    expires_at: int

    @property
    def digest(self) -> str:
        # A used link is remembered by what it grants, so a re-signed copy of it is used as well.
        return hashlib.sha256(f"{self.submission_id}|{self.staff_id}|{self.action}|{self.expires_at}".encode()).hexdigest()


class LinkRefused(Exception):
    """`reason` is "invalid" (tampered or not ours) or "expired"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def sign(secret: str, submission_id: str, staff_id: str, action: str, ttl_seconds: float, *, now: float | None = None) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    expires_at = int((time.time() if now is None else now) + ttl_seconds)
    return _serializer(secret).dumps([submission_id, staff_id, action, expires_at])


def verify(secret: str, token: str, *, now: float | None = None) -> Grant:
    """The grant a token carries; LinkRefused if it was altered, is not ours or has run out."""
    try:
        submission_id, staff_id, action, expires_at = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise LinkRefused("invalid") from None
    if action not in ACTIONS:
        raise LinkRefused("invalid")
    if (time.time() if now is None else now) >= expires_at:
        raise LinkRefused("expired")
    return Grant(submission_id, staff_id, action, int(expires_at))
