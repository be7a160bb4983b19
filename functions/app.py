"""The application factory: one Flask app, one blueprint per area. Nothing happens at import time."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from functions.headers import secure_pages
from functions.problems import register_problem_handlers
from functions.services import Services
from minqing.settings import Settings, load_settings

# The areas a function deployed on its own may be built from (`areas`): each is `functions/<name>.py`,
# whose blueprint has the same name.
SERVERLESS_AREAS = ("hazard", "consultation", "enterprise", "receipts", "tallies", "health", "attachments", "pages",
                    "actions", "status", "public")
FORM_KINDS = frozenset({"hazard", "consultation", "enterprise"})


def create_app(settings: Settings | None = None, *, broker=None, directory=None, areas=None) -> Flask:
    """The app; with `areas` (blueprint names) only those, as for a function deployed on its own."""
    settings = settings or load_settings()
    app = Flask("minqing")
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address (rate limits) and scheme as the proxy nearest to us recorded them. Not the host,
        # port or prefix: nginx passes a client's own X-Forwarded-Host on untouched, and links use BASE_URL.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0, x_prefix=0)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    app.extensions["minqing"] = Services(settings, broker=broker, directory=directory)
    register_problem_handlers(app)
    secure_pages(app)

    if areas is not None:
        # One serverless function: its own blueprints only, and no other area's module imported (cold starts).
        for name in (n for n in SERVERLESS_AREAS if n in areas):
            app.register_blueprint(import_module(f"functions.{name}").blueprint)
        for kind in FORM_KINDS & set(areas):
            app.extensions["minqing"].schemas[kind]  # its first request needs it: made in the init phase
        return app

    from functions import (
        actions,
        attachments,
        consultation,
        enterprise,
        hazard,
        health,
        pages,
        public,
        receipts,
        status,
        tallies,
    )

    for module in (hazard, consultation, enterprise, receipts, tallies, health, attachments, pages, actions, status,
                   public):
        app.register_blueprint(module.blueprint)

    from functions import cases, checks, console, dashboard, exports, feedback, open311, openapi

    for module in (cases, feedback, checks, dashboard, exports, openapi, open311, console):
        app.register_blueprint(module.blueprint)

    from functions.limits import protect

    protect(app, settings, public=[m.blueprint for m in (hazard, consultation, enterprise, receipts, tallies,
                                                           feedback, dashboard, open311, pages, attachments, status,
                                                           public)],
            submissions=[m.blueprint for m in (hazard, consultation, enterprise)])
    return app
