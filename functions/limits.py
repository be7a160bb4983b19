"""Rate limits on the public endpoints (Flask-Limiter): per client address, and per QR-code spot so one
sticker cannot flood a community. The address is the client's as the trusted proxies in front recorded it
(MINQING_TRUSTED_PROXIES, functions/app.py). Limits and storage are settings: memory in each web process on the
embedded default, Redis when configured. If the store is down, requests go through (fail open) and the
error is logged: a resident's report matters more than the limit."""

from __future__ import annotations

import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from functions.problems import Problem

TOO_MANY = ("提交过于频繁，请稍后再试。", "Too many requests; try again shortly.")


def spot_of_request() -> str:
    """The QR-code spot a submission names (`location.spot`), or "" when it names none."""
    if request.method != "POST":
        return ""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True, cache=True)
        location = body.get("location") if isinstance(body, dict) else None
        spot = location.get("spot") if isinstance(location, dict) else None
    else:
        spot = request.form.get("location.spot")
    return spot.strip()[:40] if isinstance(spot, str) else ""


def accepted(response) -> bool:
    """A submission taken: the API's 202, or a browser form's redirect to its thank-you page. Only these count
    against a spot, so that anyone's invalid posts naming a spot cannot lock it for everyone."""
    return response.status_code in (202, 303)


def protect(app: Flask, settings, public: list, submissions: list) -> Limiter | None:
    """Limit every public blueprint per address, and the submission blueprints per spot as well."""
    if settings.rate_limit_per_address == "off" and settings.rate_limit_per_spot == "off":
        return None
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.rate_limit_storage_url,
                      # Its headers would put a Retry-After on every answer (a 503's too): ours goes on 429 only.
                      headers_enabled=False, swallow_errors=True, key_prefix=f"minqing:{settings.queue_name}",
                      storage_options={"socket_connect_timeout": 1, "socket_timeout": 1}
                      if settings.rate_limit_storage_url.startswith("redis") else {})
    if settings.rate_limit_per_address != "off":
        for blueprint in public:
            limiter.limit(settings.rate_limit_per_address, per_method=False)(blueprint)
    if settings.rate_limit_per_spot != "off":
        for blueprint in submissions:
            limiter.limit(settings.rate_limit_per_spot, key_func=lambda: "spot:" + spot_of_request(),
                          exempt_when=lambda: not spot_of_request(), deduct_when=accepted)(blueprint)

    @app.errorhandler(429)
    def _too_many(error):
        breached = limiter.current_limit
        seconds = max(1, int(breached.reset_at - time.time())) if breached is not None else 60
        return Problem(429, "rate-limited", TOO_MANY, headers={"Retry-After": str(seconds)}).response(_lang())

    return limiter


def _lang() -> str:
    from functions.problems import pick_lang

    return pick_lang()
