"""Signed one-tap links (一键处理): acknowledge or resolve a case straight from a notification.

A link carries (case, assignee, action, expiry, via) signed with the secret key (HMAC-SHA256 via
itsdangerous), so it cannot be altered, runs out, and only names the staff member it was sent to; `via`
names the group a group robot's link was posted to ("" for a link sent to the staff member alone). It acts
only while that staff member still answers for the case (workers/one_tap.py).
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
    """What a valid link allows: `staff_id` may do `action` to `submission_id` until `expires_at` (epoch s);
    `via` is the group it was posted to, where anyone may open it, or ""."""

    submission_id: str
    staff_id: str
    action: str
    expires_at: int
    via: str = ""

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


def sign(secret: str, submission_id: str, staff_id: str, action: str, ttl_seconds: float, *, via: str = "",
         now: float | None = None) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    expires_at = int((time.time() if now is None else now) + ttl_seconds)
    return _serializer(secret).dumps([submission_id, staff_id, action, expires_at, via])


def verify(secret: str, token: str, *, now: float | None = None) -> Grant:
    """The grant a token carries; LinkRefused if it was altered, is not ours or has run out."""
    try:
        # Links signed before `via` existed have four fields; they were sent before group links were told
        # apart, and run out within MINQING_LINK_TTL_HOURS.
        submission_id, staff_id, action, expires_at, *rest = _serializer(secret).loads(token)
        via = str(rest[0]) if len(rest) == 1 else ""
    except (BadSignature, ValueError, TypeError):
        raise LinkRefused("invalid") from None
    if action not in ACTIONS or len(rest) > 1:
        raise LinkRefused("invalid")
    if (time.time() if now is None else now) >= expires_at:
        raise LinkRefused("expired")
    return Grant(submission_id, staff_id, action, int(expires_at), via)
