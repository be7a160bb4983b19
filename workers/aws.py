"""The worker as an AWS Lambda function triggered by SQS (handler `workers.aws.handler`).

Each record's body is a Dramatiq message as `dramatiq-sqs` sends it (base64 of the encoded message). It
runs through the broker's middleware as a Dramatiq worker would run it: a failure is retried by sending the
message again with a back-off delay, one that failed after every retry is dead-lettered in the database,
and the actors are idempotent, so a redelivered record does no harm. The answer lists in
`batchItemFailures` only the records that could not be handled (undecodable, or a retry that could not be
queued), so SQS delivers only those again and moves them to the dead-letter queue after maxReceiveCount.
"""

from __future__ import annotations

import base64
import logging

from dramatiq import Message
from dramatiq.broker import MessageProxy
from dramatiq.middleware import SkipMessage

log = logging.getLogger("minqing.workers")

_runtime = None


def runtime():
    """Built once per Lambda container, on the first batch: settings, broker (SQS), actors, database."""
    global _runtime
    if _runtime is None:
        from minqing.settings import load_settings
        from minqing.store.engine import make_engine, upgrade
        from workers.main import build

        settings = load_settings()
        engine = make_engine(settings.database_url)
        upgrade(engine)
        engine.dispose()
        _runtime = build(settings)
        _runtime.broker.emit_after("process_boot")
    return _runtime


def handler(event: dict, context=None, *, broker=None) -> dict:
    broker = broker or runtime().broker
    failures = []
    for record in event.get("Records", []):
        try:
            message = Message.decode(base64.b64decode(record["body"], validate=True))
        except Exception:
            log.exception("SQS record %s is not a Dramatiq message", record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        try:
            process(broker, MessageProxy(message))
        except Exception:
            log.exception("message %s (%s) could not be handled; SQS will deliver it again",
                          message.message_id, message.actor_name)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def process(broker, message: MessageProxy) -> None:
    """One message through the middleware and its actor, as `dramatiq.worker` processes it."""
    try:
        broker.emit_before("process_message", message)
        result = None
        if not message.failed:
            actor = broker.get_actor(message.actor_name)
            result = actor(*message.args, **message.kwargs)
        broker.emit_after("process_message", message, result=result)
    except SkipMessage:
        broker.emit_after("skip_message", message)
    except BaseException as error:  # noqa: B036 - the middleware decides: retry later or dead-letter
        message.stuff_exception(error)
        # Retries sends the message again with a delay here; if SQS refuses that, this raises and the
        # record itself comes back after the visibility timeout.
        broker.emit_after("process_message", message, exception=error)
    event = "nack" if message.failed else "ack"
    broker.emit_before(event, message)
    broker.emit_after(event, message)
    message.clear_exception()
