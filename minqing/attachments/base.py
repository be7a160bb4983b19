"""What every attachment store shares: unforgeable keys, where the cleaned copies go, and the store interface."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Iterator, Protocol

from minqing.receipts import ALPHABET

UPLOADS = "uploads/"


STAFF_COPIES = "staff/"


_RANDOM, _CHECK = 16, 10  # 80 random bits, a 50-bit MAC


class UploadTarget(dict):
    """What a phone needs to upload one photo: `{"method": "POST", "url": …, "fields": {…}}`.

    Shaped like an S3 presigned POST whatever the store: send `fields`, then the file as `file`.
    """


class AttachmentStore(Protocol):
    def upload_target(self, key: str, content_type: str) -> UploadTarget: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when nothing was uploaded under `key`."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove `key`; nothing happens if it is not there (so a redelivered step may delete again)."""

    def uploads_before(self, cutoff: datetime) -> Iterator[tuple[str, datetime]]:
        """(key, when written) of each upload under `uploads/` last written before `cutoff`."""

    @property
    def upload_origin(self) -> str | None:
        """The origin browsers upload to when it is not ours (for the pages' Content-Security-Policy)."""


def _mac(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), f"attachment\x00{text}".encode(), hashlib.sha256).digest()
    return _b32(digest, _CHECK)


def _b32(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(length))


def issue_key(secret: str, seed: str | None = None) -> str:
    """A new key; with `seed`, the same key every time (a resent form re-uploads to the same key)."""
    if seed is None:
        token = _b32(secrets.token_bytes(10), _RANDOM)
    else:
        token = _b32(hmac.new(secret.encode(), f"seed\x00{seed}".encode(), hashlib.sha256).digest(), _RANDOM)
    return f"{UPLOADS}{token}{_mac(secret, token)}"


def is_issued(secret: str, key: str) -> bool:
    """True for a key this service issued (and not one invented or altered)."""
    # Issued keys are ASCII; compare_digest refuses other text, and a key comes from the client.
    if not key.isascii() or not key.startswith(UPLOADS):
        return False
    code = key[len(UPLOADS):]
    if len(code) != _RANDOM + _CHECK:
        return False
    return hmac.compare_digest(code[_RANDOM:], _mac(secret, code[:_RANDOM]))


def staff_copy_key(key: str) -> str:
    """Where the checked copy, without EXIF, is kept for staff."""
    return STAFF_COPIES + key[len(UPLOADS):] + ".jpg"
