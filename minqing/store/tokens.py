"""Staff bearer tokens: shown once, kept only as a hash, revocable and expiring.

A token reads `mq_<id>_<secret>`: the id finds the row, the secret is compared with its SHA-256. The
secret is 32 random bytes, so a plain hash is enough; a slow password hash would only slow every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from minqing.store.base import now
from minqing.store.tables import staff_tokens

PREFIX = "mq_"
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Issued:
    id: str
    token: str
    staff_id: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(connection: Connection, staff_id: str, *, days: int = DEFAULT_DAYS) -> Issued:
    """A new token for `staff_id`, valid for `days`; the only time its secret exists in clear."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    created = now()
    expires = created + timedelta(days=days)
    connection.execute(staff_tokens.insert().values(
        id=token_id, staff_id=staff_id, secret_hash=_hash(secret), created_at=created, expires_at=expires))
    return Issued(id=token_id, token=f"{PREFIX}{token_id}_{secret}", staff_id=staff_id, expires_at=expires)


def revoke(connection: Connection, token_id: str) -> bool:
    """Revoke a token by its id (or the whole token); True if it was live."""
    if token_id.startswith(PREFIX):
        token_id = token_id[len(PREFIX):].split("_", 1)[0]
    result = connection.execute(update(staff_tokens).where(
        staff_tokens.c.id == token_id, staff_tokens.c.revoked_at.is_(None)).values(revoked_at=now()))
    return result.rowcount == 1


def staff_for(connection: Connection, token: str) -> str | None:
    """The staff id a presented token belongs to, or None if it is unknown, revoked or expired."""
    if not token.startswith(PREFIX) or "_" not in token[len(PREFIX):]:
        return None
    token_id, secret = token[len(PREFIX):].split("_", 1)
    row = connection.execute(select(staff_tokens).where(staff_tokens.c.id == token_id)).one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    if row.revoked_at is not None or row.expires_at <= now():
        return None
    return row.staff_id


def listing(connection: Connection):
    return connection.execute(select(staff_tokens).order_by(staff_tokens.c.created_at)).all()


def staff_revoked(connection: Connection, staff_id: str) -> bool:
    """Whether an administrator has cut `staff_id` off: they hold a revoked token and no live one.

    Someone never given a token, or whose tokens only ran out, is not; issuing a new token lifts it.
    """
    rows = connection.execute(select(staff_tokens.c.revoked_at, staff_tokens.c.expires_at)
                              .where(staff_tokens.c.staff_id == staff_id)).all()
    if not any(row.revoked_at is not None for row in rows):
        return False
    at = now()
    return not any(row.revoked_at is None and row.expires_at > at for row in rows)
