"""Thumbnails of the staff copies of photos, made once with Pillow and kept in the attachment store."""

from __future__ import annotations

import io

THUMBS = "thumbs/"
THUMB_SIZE = (320, 320)


def thumb_key(key: str) -> str:
    """Where the thumbnail of `key` is kept: derived from the key, so it is made once."""
    return THUMBS + key.replace("/", "_")


def thumbnail(store, key: str, max_pixels: int) -> bytes | None:
    """The JPEG thumbnail of the photo at `key`, made and stored on first use; None if the photo is gone."""
    kept = store.get(thumb_key(key))
    if kept is not None:
        return kept
    data = store.get(key)
    if data is None:
        return None
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = max_pixels
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        image.thumbnail(THUMB_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=75, optimize=True)  # no EXIF is written
    made = out.getvalue()
    store.put(thumb_key(key), made, "image/jpeg")
    return made
