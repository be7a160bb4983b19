"""The embedded attachment store: files under the data dir, uploaded through our own endpoint.

The upload target is signed like an S3 POST policy (key, content type, size limit, expiry), so the direct
endpoint enforces the same limits as S3 would.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlparse

from minqing.attachments.base import UPLOADS, UploadTarget, is_issued
from minqing.private_files import private_dir

UPLOAD_PATH = "/api/v1/attachments/upload"


class UploadRefused(Exception):
    """A direct upload that its signed fields do not allow; `slug` names why."""

    def __init__(self, slug: str):
        super().__init__(slug)
        self.slug = slug


class FileStore:
    upload_origin = None

    def __init__(self, settings):
        self.root = Path(unquote(urlparse(settings.attachments_url).path))
        self.secret = settings.secret_key
        self.base_url = settings.base_url
        self.max_bytes = settings.attachments_max_bytes
        self.expiry = settings.attachments_expiry_seconds

    def upload_target(self, key: str, content_type: str) -> UploadTarget:
        expires = str(int(time.time()) + self.expiry)
        fields = {"key": key, "Content-Type": content_type, "expires": expires}
        fields["signature"] = self._sign(fields)
        return UploadTarget(method="POST", url=self.base_url + UPLOAD_PATH, fields=fields)

    def check_upload(self, fields) -> tuple[str, str]:
        """(key, content type) a direct upload may store, or UploadRefused."""
        given = {name: fields.get(name, "") for name in ("key", "Content-Type", "expires")}
        # As bytes: compare_digest refuses str with non-ASCII characters, and these come from the client.
        if not hmac.compare_digest(fields.get("signature", "").encode(), self._sign(given).encode()):
            raise UploadRefused("bad-upload-signature")
        if not given["expires"].isdigit() or int(given["expires"]) < time.time():
            raise UploadRefused("upload-expired")
        if not is_issued(self.secret, given["key"]):
            raise UploadRefused("bad-upload-signature")
        return given["key"], given["Content-Type"]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        private_dir(path.parent)  # folders 0700; the temporary file below is 0600
        # Write then rename: a reader never sees half a photo, and a repeated put replaces it whole.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as f:
            f.write(data)
        os.replace(f.name, path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uploads_before(self, cutoff: datetime) -> Iterator[tuple[str, datetime]]:
        folder = self.root / UPLOADS
        if not folder.is_dir():
            return
        for entry in os.scandir(folder):
            # put() leaves temporary files only while it writes; a crashed one is swept like any upload.
            if not entry.is_file():
                continue
            written = datetime.fromtimestamp(entry.stat().st_mtime, timezone.utc)
            if written < cutoff:
                yield UPLOADS + entry.name, written

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def _sign(self, fields: dict) -> str:
        text = "\x00".join([fields["key"], fields["Content-Type"], fields["expires"], str(self.max_bytes)])
        return hmac.new(self.secret.encode(), f"upload\x00{text}".encode(), hashlib.sha256).hexdigest()
