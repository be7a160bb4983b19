"""The application factory: one Flask app, one blueprint per area. Nothing happens at import time."""

from __future__ import annotations

from functools import cached_property, partial
from importlib import import_module

from flask import Flask
from werkzeug.urls import iri_to_uri

from functions.headers import secure_pages
from functions.problems import register_problem_handlers
from minqing.receipts import random_uuid
from minqing.settings import Settings, load_settings


# The areas a function deployed on its own may be built from (`areas`): each is `functions/<name>.py`,
# whose blueprint has the same name.
SERVERLESS_AREAS = ("hazard", "consultation", "enterprise", "receipts", "tallies", "health", "attachments", "pages",
                    "actions")
FORM_KINDS = frozenset({"hazard", "consultation", "enterprise"})


class Services:
    """What the HTTP functions reach: settings, schemas, the queue and (lazily) the database."""

    def __init__(self, settings: Settings, *, broker=None, directory=None):
        from minqing.directory import load_configured_directory

        self.settings = settings
        self.directory = directory if directory is not None else load_configured_directory(settings)
        self.schemas = FormSchemas(self)
        self._broker = broker
        # What the 202's Location starts with: a configured IRI (a Chinese host name, say) made a URI once.
        self.base_uri = iri_to_uri(settings.base_url)

    @property
    def broker(self):
        if self._broker is None:
            from workers.brokers import make_broker

            # Without the workers' middleware: retries, time and age limits act where messages are processed,
            # and a web process only sends.
            self._broker = make_broker(self.settings, middleware=[])
        return self._broker

    @cached_property
    def attachments(self):
        from minqing.attachments import make_store

        return make_store(self.settings)

    @cached_property
    def engine(self):
        # Only the receipt, tally and readiness paths (and idempotent retries) need the database.
        from workers.db import make_engine

        return make_engine(self.settings.database_url, pool_size=4)

    def enqueue_submission(self, envelope: dict) -> None:
        self.enqueue("store_submission", envelope)

    def enqueue(self, actor_name: str, *args) -> None:
        """Queue a message for a worker's actor (the web process declares no actors of its own)."""
        from dramatiq import Message

        self.broker.enqueue(Message(queue_name=self.settings.queue_name, actor_name=actor_name, args=args, kwargs={},
                                    options={}, message_id=random_uuid()))

    def stored_under_key(self, kind: str, scoped_key: str, unscoped_id: str) -> list:
        """What is stored under an idempotency key (workers.queries.stored_under_key); [] when the database
        is unreachable."""
        from workers import queries

        try:
            with self.engine.connect() as connection:
                return queries.stored_under_key(connection, kind, scoped_key, unscoped_id)
        except Exception:
            # The queue still takes the submission: its id, derived from its key and content, is stored once.
            import logging

            logging.getLogger("minqing.intake").warning("database unreachable for idempotency check", exc_info=True)
            return []


class FormSchemas(dict):
    """Each form's schema, bound to the directory's communities, made when that form is first used: a
    function deployed for one form never imports the others'."""

    def __init__(self, services: Services):
        super().__init__()
        self.services = services

    def __missing__(self, kind: str):
        from minqing.attachments import is_issued
        from schemas import schema_class

        settings = self.services.settings
        schema = schema_class(kind)(communities=self.services.directory.community_codes,
                                    issued_key=partial(is_issued, settings.secret_key))
        self[kind] = schema
        return schema


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

    from functions import actions, attachments, consultation, enterprise, hazard, health, pages, receipts, tallies

    for module in (hazard, consultation, enterprise, receipts, tallies, health, attachments, pages, actions):
        app.register_blueprint(module.blueprint)

    from functions import cases, dashboard, exports, feedback, open311, openapi

    for module in (cases, feedback, dashboard, exports, openapi, open311):
        app.register_blueprint(module.blueprint)

    from functions.limits import protect

    protect(app, settings, public=[m.blueprint for m in (hazard, consultation, enterprise, receipts, tallies,
                                                           feedback, dashboard, open311, pages, attachments)],
            submissions=[m.blueprint for m in (hazard, consultation, enterprise)])
    return app
