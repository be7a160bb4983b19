"""Dramatiq's own log lines name a message by its actor and its arguments (Message.__str__), so a failing
store_submission would write a resident's name, phone and words into the worker's log, which operators and
log shippers read. Its loggers name a message by actor and id instead: the arguments stay where staff
can read them (the queue, and the dead letters once a message has failed for good)."""

from __future__ import annotations

import logging

from dramatiq import Message
from dramatiq.broker import MessageProxy


class MessagesById(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(named(a) for a in record.args)
        return True


def named(value):
    """A message as `actor(message <id>)`; anything else as it is."""
    if isinstance(value, (Message, MessageProxy)):
        return f"{value.actor_name}(message {value.message_id})"
    return value


def hide_message_arguments(broker) -> None:
    """Filter every Dramatiq logger that is handed a message: a logger's filter sees only its own records,
    so each is named (dramatiq.logging.get_logger): the worker, its threads, one consumer per queue."""
    queues = (*broker.get_declared_queues(), *broker.get_declared_delay_queues())
    names = ["Worker", "WorkerThread", "_WorkerMiddleware", *(f"ConsumerThread({q})" for q in queues)]
    for name in names:
        logger = logging.getLogger(f"dramatiq.worker.{name}")
        if not any(isinstance(f, MessagesById) for f in logger.filters):
            logger.addFilter(MessagesById())
