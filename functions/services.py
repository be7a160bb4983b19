"""What the HTTP functions reach: settings, the directory, the form schemas, the queue and (lazily) the database."""

from __future__ import annotations

from functools import cached_property, partial

from flask import current_app
from werkzeug.urls import iri_to_uri

from minqing.receipts import random_uuid
from minqing.settings import Settings
from workers.brokers import STORE_SUBMISSION


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
        from minqing.store.engine import make_engine

        return make_engine(self.settings.database_url, pool_size=4)

    def enqueue_submission(self, envelope: dict) -> None:
        self.enqueue(STORE_SUBMISSION, envelope)

    def enqueue(self, actor_name: str, *args) -> None:
        """Queue a message for a worker's actor (the web process declares no actors of its own)."""
        from dramatiq import Message

        self.broker.enqueue(Message(queue_name=self.settings.queue_name, actor_name=actor_name, args=args, kwargs={},
                                    options={}, message_id=random_uuid()))

    def stored_under_key(self, kind: str, scoped_key: str, unscoped_id: str) -> list:
        """What is stored under an idempotency key (workers.queries.stored_under_key); [] when the database
        is unreachable."""
        from minqing.store import changes

        try:
            with self.engine.connect() as connection:
                return changes.stored_under_key(connection, kind, scoped_key, unscoped_id)
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
        from minqing.attachments.base import is_issued
        from schemas import schema_class

        settings = self.services.settings
        directory = self.services.directory
        # A hazard's patrol names a volunteer of the roster, when the directory has one.
        roster = {"volunteers": directory.active_volunteer_ids} if kind == "hazard" else {}
        schema = schema_class(kind)(communities=directory.community_codes,
                                    issued_key=partial(is_issued, settings.secret_key), **roster)
        self[kind] = schema
        return schema


def services():
    return current_app.extensions["minqing"]
