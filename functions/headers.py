"""The headers every HTML page answers with, set in one place so no page can go without them.

One Content-Security-Policy for the forms, one-tap, dashboard and docs pages: scripts only from here, no
framing (clickjacking a one-tap confirm button), forms post only here, styles only the pages' own; plus
nosniff and no Referer, which would carry a one-tap link's token or a receipt code to another site.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

from flask import Flask

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def style_sources() -> str:
    """The CSP sources of the pages' stylesheets: the SHA-256 of each <style> element of the templates, read
    from their source. Never from a page as sent, which would allow whatever a page holds; the stylesheets
    are plain text in the templates (a test keeps them so), so the page sends them as written."""
    found = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        for sheet in re.findall(r"<style>(.*?)</style>", path.read_text(encoding="utf-8"), re.S):
            found.add("'sha256-" + base64.b64encode(hashlib.sha256(sheet.encode()).digest()).decode() + "'")
    return " ".join(sorted(found))


def page_policy(upload_origin: str | None, tile_origins: tuple[str, ...] = ()) -> str:
    """The pages' CSP. Their small stylesheets are inline (one request per page on a phone), allowed by
    their hashes, and no element carries a style attribute; `upload_origin` is where the forms' photos go
    when not here; `tile_origins` are the map tile server's (MINQING_MAP_TILES), named only when one is
    configured."""
    extra = " " + upload_origin if upload_origin else ""
    # Staff photos on S3 are shown from short-lived presigned URLs: img-src names the bucket's origin too.
    tiles = "".join(" " + origin for origin in tile_origins)
    # With tiles the maps load the vendored Leaflet stylesheet, from here: style-src names 'self' then.
    styles = f"'self' {style_sources()}" if tile_origins else style_sources()
    return (f"default-src 'none'; script-src 'self'; style-src {styles}; "
            f"img-src 'self' blob: data:{extra}{tiles}; "
            f"connect-src 'self'{' ' + upload_origin if upload_origin else ''}; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


def secure_pages(app: Flask) -> None:
    """Give every HTML response the pages' headers, and every response nosniff."""
    policy: list[str] = []

    @app.after_request
    def page_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            if not policy:  # the upload origin is known once the app runs; it never changes after
                found = app.extensions["minqing"]
                policy.append(page_policy(found.attachments.upload_origin, found.settings.map_tile_origins))
            response.headers["Content-Security-Policy"] = policy[0]
            response.headers["Referrer-Policy"] = "no-referrer"
        return response
