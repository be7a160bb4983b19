"""Staff console sessions and one-time sign-in links: the secrets live in cookies and links, only their
SHA-256 here. The secrets are 32 random bytes, so a plain hash is enough (as for bearer tokens)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from minqing.domain import signin
from minqing.store.base import now
from minqing.store.tables import sign_in_links, staff_sessions


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_link(connection: Connection, staff_id: str, *, minutes: int = signin.LINK_MINUTES) -> SimpleNamespace:
    """A new sign-in link token and its 6-digit code for `staff_id`; the only time either exists in clear."""
    token, code = secrets.token_urlsafe(32), f"{secrets.randbelow(1_000_000):06d}"
    at = now()
    connection.execute(sign_in_links.insert().values(
        digest=_hash(token), staff_id=staff_id, code_hash=_hash(f"{staff_id}\x00{code}"), attempts=0,
        created_at=at, expires_at=at + timedelta(minutes=minutes)))
    return SimpleNamespace(token=token, code=code, staff_id=staff_id, expires_at=at + timedelta(minutes=minutes))


def link_staff(connection: Connection, token: str) -> str | None:
    """Whom a link would sign in, without using it (a mail app's preview fetch must not spend it)."""
    row = connection.execute(select(sign_in_links).where(sign_in_links.c.digest == _hash(token))).one_or_none()
    return row.staff_id if row is not None and signin.link_usable(row, now()) else None


def redeem_link(connection: Connection, token: str) -> str | None:
    """Use a link once: the staff id it signs in, or None if it is unknown, used or expired."""
    at = now()
    row = connection.execute(select(sign_in_links).where(sign_in_links.c.digest == _hash(token))).one_or_none()
    if row is None or not signin.link_usable(row, at):
        return None
    # The guarded update is what makes "once" hold when two tabs confirm together.
    used = connection.execute(update(sign_in_links).where(
        sign_in_links.c.digest == row.digest, sign_in_links.c.used_at.is_(None)).values(used_at=at))
    return row.staff_id if used.rowcount == 1 else None


def redeem_code(connection: Connection, staff_id: str, code: str) -> bool:
    """Use the newest live code of `staff_id` once; a wrong code counts against it."""
    at = now()
    row = connection.execute(select(sign_in_links).where(
        sign_in_links.c.staff_id == staff_id, sign_in_links.c.used_at.is_(None), sign_in_links.c.expires_at > at)
        .order_by(sign_in_links.c.created_at.desc()).limit(1)).one_or_none()
    if row is None or not signin.link_usable(row, at):
        return False
    if not hmac.compare_digest(row.code_hash, _hash(f"{staff_id}\x00{code}")):
        connection.execute(update(sign_in_links).where(sign_in_links.c.digest == row.digest)
                           .values(attempts=sign_in_links.c.attempts + 1))
        return False
    used = connection.execute(update(sign_in_links).where(
        sign_in_links.c.digest == row.digest, sign_in_links.c.used_at.is_(None)).values(used_at=at))
    return used.rowcount == 1


def start(connection: Connection, staff_id: str, *, via: str, hours: float) -> tuple[str, str]:
    """A new session for `staff_id`: (the cookie's value, the session's CSRF token)."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    at = now()
    connection.execute(staff_sessions.insert().values(
        id_hash=_hash(session_id), staff_id=staff_id, csrf=csrf, via=via, created_at=at, seen_at=at,
        expires_at=at + timedelta(hours=hours)))
    return session_id, csrf


# Touching the row on every request would make every page view a write; a minute's slack is harmless.
TOUCH_AFTER = timedelta(seconds=60)


def live(connection: Connection, session_id: str, *, idle: timedelta):
    """The session row for a cookie's value if it is live (and marks it seen), else None."""
    at = now()
    row = connection.execute(select(staff_sessions).where(staff_sessions.c.id_hash == _hash(session_id))).one_or_none()
    if row is None or not signin.session_live(row, at, idle):
        return None
    if at - row.seen_at > TOUCH_AFTER:
        connection.execute(update(staff_sessions).where(staff_sessions.c.id_hash == row.id_hash).values(seen_at=at))
    return row


def end(connection: Connection, session_id: str) -> None:
    connection.execute(update(staff_sessions).where(staff_sessions.c.id_hash == _hash(session_id),
                                                    staff_sessions.c.ended_at.is_(None)).values(ended_at=now()))


def end_all(connection: Connection, staff_id: str) -> int:
    """End every session of `staff_id` (revoked by an administrator); how many were live."""
    result = connection.execute(update(staff_sessions).where(
        staff_sessions.c.staff_id == staff_id, staff_sessions.c.ended_at.is_(None)).values(ended_at=now()))
    return result.rowcount
