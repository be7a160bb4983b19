"""Photo attachments: unforgeable keys, and one small store interface with a module per kind of storage.

A key is issued by us and carries a MAC, so a submission can only name photos this service handed out
(`uploads/<random><mac>`); the intake checks the MAC without touching storage. The store is chosen by the
scheme of `MINQING_ATTACHMENTS_URL`: `file://` (files.py, the embedded default) or `s3://` (s3.py).
"""

from __future__ import annotations

from minqing.attachments.base import AttachmentStore


def make_store(settings) -> AttachmentStore:
    url = settings.attachments_url
    scheme = url.split(":", 1)[0]
    if scheme == "file":
        from minqing.attachments.files import FileStore

        return FileStore(settings)
    if scheme == "s3":
        from minqing.attachments.s3 import S3Store

        return S3Store(settings)
    raise ValueError(f"MINQING_ATTACHMENTS_URL: unsupported scheme {scheme!r} (use file:// or s3://)")


