"""Broker middleware of ours: dead letters kept in the database, whatever the broker."""

from __future__ import annotations

import logging

from dramatiq.middleware import Middleware

log = logging.getLogger("minqing.workers")


class DeadLetters(Middleware):
    """Record each message that failed for good, so `minqing dead-letters` can list and retry it."""

    def __init__(self, engine_factory):
        self.engine_factory = engine_factory

    def after_nack(self, broker, message):
        from minqing.store import dead_letters

        error = message.options.get("traceback") or repr(getattr(message, "_exception", None) or "")
        with self.engine_factory().begin() as connection:
            dead_letters.add_dead_letter(
                connection,
                message_id=message.message_id,
                queue=message.queue_name,
                actor=message.actor_name,
                message=message.asdict(),
                error=error,
            )
        log.error("message %s (%s) dead-lettered", message.message_id, message.actor_name)
