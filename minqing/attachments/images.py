"""What a stored photo really is, and the copy staff see: Pillow, by content (never by name or header)."""

from __future__ import annotations

import io
from dataclasses import dataclass

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
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


@dataclass(frozen=True)
class Header:
    """What a photo's header says, read without decoding a pixel."""

    format: str | None  # Pillow's name for it; None: not an image at all
    width: int = 0
    height: int = 0

    @property
    def content_type(self) -> str | None:
        """Its type when it is one we accept, else None."""
        return FORMATS.get(self.format or "")

    def too_many_pixels(self, max_pixels: int) -> bool:
        return self.width * self.height > max_pixels


def _pillow(max_pixels: int):
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    # Only a backstop: we refuse by the header's size first (Pillow merely warns up to twice this).
    Image.MAX_IMAGE_PIXELS = max_pixels
    return Image


def read_header(data: bytes, max_pixels: int) -> Header:
    """The type and size `data` declares. `Image.open` reads the header only: nothing is decoded here."""
    Image = _pillow(max_pixels)
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            return Header(image.format or "", width, height)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Over twice the budget Pillow refuses at open already (over it, it warns: an error under -W error).
        return Header("", 1, max_pixels + 1)
    except Exception:
        return Header(None)


def check_photo(data: bytes, max_bytes: int, max_pixels: int) -> PhotoCheck:
    """Check one uploaded photo; when it is a real image of an accepted type, re-encode it without EXIF.

    A photo over `max_pixels` is refused by its header, before any decoding: a 58 KB PNG can declare
    7746×7746 pixels and take hundreds of megabytes to decode.
    """
    if len(data) > max_bytes:
        return PhotoCheck("rejected", "too-large")
    header = read_header(data, max_pixels)
    if header.format is None:
        return PhotoCheck("rejected", "not-an-image")
    if header.too_many_pixels(max_pixels):
        return PhotoCheck("rejected", "too-many-pixels", header.content_type or "", header.width, header.height)
    if header.content_type is None:
        return PhotoCheck("rejected", "unsupported-type")
    Image = _pillow(max_pixels)
    from PIL import ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
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
    return PhotoCheck("ok", "", header.content_type, width, height, out.getvalue())
