"""A request for somewhere to upload one photo."""

from __future__ import annotations

from schemas.choices import CONTENT_TYPES

from .choices import Label
from .common import StrictSchema
from .fields import Choice

# Named the same in both languages: "image/heic" → "HEIC".
PHOTO_TYPES = {t: Label(n, n) for t, n in zip(CONTENT_TYPES, ("JPEG", "PNG", "WebP", "HEIC"))}


class AttachmentRequestSchema(StrictSchema):
    content_type = Choice(PHOTO_TYPES, required=True)
