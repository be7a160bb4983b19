"""A case's photos for staff, scope-checked: the same 404 for another scope's case as for none at all.

Only keys the case names are served (the cleaned copies of the resident's photos, and the photos added to
its steps); on S3 the answer is a redirect to a presigned URL that lives a minute."""

from __future__ import annotations

from flask import Response, redirect, request

from functions.console.base import NO_STORE, blueprint, lang, page, staff_page
from functions.console.pages import case_photos, found_case
from functions.console.texts import TEXTS
from functions.services import services

PRESIGNED_SECONDS = 60


@blueprint.get("/staff/cases/<case_id>/photo")
@staff_page
def photo(case_id: str):
    svc = services()
    key = request.args.get("key", "")[:200]
    with svc.engine.connect() as connection:
        case = found_case(connection, case_id)
        known = case is not None and key in {p["key"] for p in case_photos(connection, case)}
    if not known:
        return page("message.html", 404, message=TEXTS[lang()]["not_found"])
    store = svc.attachments
    if request.args.get("size") == "thumb":
        from minqing.thumbnails import thumbnail

        data = thumbnail(store, key, svc.settings.attachments_max_pixels)
    elif hasattr(store, "download_url"):
        return redirect(store.download_url(key, PRESIGNED_SECONDS), 302, Response=_private_redirect)
    else:
        data = store.get(key)
    if data is None:
        return page("message.html", 404, message=TEXTS[lang()]["not_found"])
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=300",
                                                          "Content-Disposition": "inline"})


class _private_redirect(Response):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers.update({**NO_STORE, "Referrer-Policy": "no-referrer"})
