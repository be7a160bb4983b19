"""The headers every HTML page answers with, set in one place so no page can go without them.

One Content-Security-Policy for the forms, one-tap, dashboard and docs pages: scripts only from here, no
framing (clickjacking a one-tap confirm button), forms post only here; plus nosniff and no Referer, which
would carry a one-tap link's token or a receipt code to another site.
"""

from __future__ import annotations

from flask import Flask


def page_policy(upload_origin: str | None, tile_origins: tuple[str, ...] = ()) -> str:
    """The pages' CSP. Their small stylesheets are inline (one request per page on a phone), hence
    'unsafe-inline' for styles only; `upload_origin` is where the forms' photos go when not here;
    `tile_origins` are the map tile server's (MINQING_MAP_TILES), named only when one is configured."""
    extra = " " + upload_origin if upload_origin else ""
    # Staff photos on S3 are shown from short-lived presigned URLs: img-src names the bucket's origin too.
    tiles = "".join(" " + origin for origin in tile_origins)
    # With tiles the maps load the vendored Leaflet stylesheet, from here: style-src names 'self' then.
    styles = "'self' 'unsafe-inline'" if tile_origins else "'unsafe-inline'"
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
