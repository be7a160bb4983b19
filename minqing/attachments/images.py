"""What a stored photo really is, and the copy staff see: Pillow, by content (never by name or header)."""

from __future__ import annotations

import io
from dataclasses import dataclass

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
MAX_PIXELS = 50_000_000  # a 10 MB file can still decode to gigabytes: refuse decompression bombs
STAFF_MAX_SIDE = 2000
STAFF_QUALITY = 80


@dataclass(frozen=True)
class PhotoCheck:
    status: str  # "ok" or "rejected"
    reason: str = ""
    content_type: str = ""
    width: int = 0
    height: int = 0
    clean_copy: bytes | None = None


def _pillow():
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    return Image


def sniff_content_type(data: bytes) -> str | None:
    """The image type `data` holds (one we accept), or None."""
    Image = _pillow()
    try:
        with Image.open(io.BytesIO(data)) as image:
            return FORMATS.get(image.format)
    except Exception:
        return None


def check_photo(data: bytes, max_bytes: int) -> PhotoCheck:
    """Check one uploaded photo; when it is a real image of an accepted type, re-encode it without EXIF."""
    if len(data) > max_bytes:
        return PhotoCheck("rejected", "too-large")
    Image = _pillow()
    from PIL import ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            content_type = FORMATS.get(image.format)
            if content_type is None:
                return PhotoCheck("rejected", "unsupported-type")
            image.load()
            # Turn it upright first: the orientation lives in the EXIF that is about to go.
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except Image.DecompressionBombError:
        return PhotoCheck("rejected", "too-many-pixels")
    except Exception:
        return PhotoCheck("rejected", "not-an-image")
    width, height = upright.size
    upright.thumbnail((STAFF_MAX_SIDE, STAFF_MAX_SIDE))
    out = io.BytesIO()
    # No exif= argument: the copy carries no EXIF at all, so no GPS position, camera serial or time.
    upright.save(out, "JPEG", quality=STAFF_QUALITY, optimize=True)
    return PhotoCheck("ok", "", content_type, width, height, out.getvalue())
