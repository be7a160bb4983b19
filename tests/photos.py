"""Test photos made on the spot with Pillow: a phone JPEG with a GPS position in its EXIF, and others."""

from __future__ import annotations

import io

from PIL import ExifTags, Image

# 武汉 首义路 — where a phone would have put the resident.
GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 32.0, 40.0),
       ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (114.0, 18.0, 22.0)}


def phone_jpeg(width: int = 1200, height: int = 900, *, gps: bool = True) -> bytes:
    image = Image.new("RGB", (width, height), (90, 120, 160))
    for x in range(0, width, 40):  # some detail, so the JPEG is not trivially small
        image.paste((200, 180, 60), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if gps:
        exif[ExifTags.Base.GPSInfo] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 200, 10, 128)).save(out, "PNG")
    return out.getvalue()


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.Base.GPSInfo))
