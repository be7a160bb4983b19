"""Amazon SQS (or any SQS-compatible endpoint) as the queue, through `dramatiq-sqs`.

    MINQING_BROKER_URL=sqs://                     AWS's endpoint; region and credentials the AWS way
    MINQING_BROKER_URL=sqs://?region=cn-north-1&endpoint_url=http://127.0.0.1:9324&namespace=prod

SQS queue names are `[namespace_]MINQING_QUEUE`, with a `_dlq` queue beside each for messages that failed
after every retry (they are also kept in the database, as on every broker). A message a worker took and
did not finish is delivered again once the visibility timeout (MINQING_VISIBILITY_TIMEOUT_MS) runs out.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from dramatiq.common import current_millis
from dramatiq.middleware import Middleware, SkipMessage

# SQS delays a message by 15 minutes at most; longer retry back-offs are cut to that, and longer delays
# (SLA timers wait hours or days) travel in hops of at most this, see LongDelays.
MAX_DELAY_MS = 15 * 60_000
# When a message that hops is due (milliseconds since the epoch), in its options.
DUE = "minqing_due"


def sqs_options(url: str) -> dict:
    """The broker's keyword arguments from an `sqs://` URL."""
    parts = urlsplit(url)
    if parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"MINQING_BROKER_URL: write SQS options as a query, sqs://?region=…, not {url!r}")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"region", "endpoint_url", "namespace"}
    if unknown:
        raise ValueError(f"MINQING_BROKER_URL: unknown SQS options {sorted(unknown)}")
    options = {"namespace": query.get("namespace") or None}
    if "region" in query:
        options["region_name"] = query["region"]
    if "endpoint_url" in query:
        options["endpoint_url"] = query["endpoint_url"]
    return options


class LongDelays(Middleware):
    """Runs a message that arrived before it is due later instead: sends it on with the time that remains
    (at most SQS's 15 minutes again) and acknowledges this copy. The broker's enqueue marks it."""

    def before_process_message(self, broker, message):
        due = message.options.get(DUE)
        remaining = due - current_millis() if due is not None else 0
        if remaining > 0:
            # SQS counts whole seconds: round up, or the last leg arrives early and hops again at once.
            broker.enqueue(message.copy(), delay=-(-remaining // 1000) * 1000)
            raise SkipMessage(f"due in {remaining} ms")


def make_sqs_broker(url: str, settings, middleware: list):
    from dramatiq.middleware import Retries
    from dramatiq_sqs import SQSBroker

    class LongDelaySQSBroker(SQSBroker):
        def enqueue(self, message, *, delay=None):
            if delay and delay > MAX_DELAY_MS:
                message = message.copy(options={**message.options, DUE: current_millis() + delay})
                delay = MAX_DELAY_MS
            return super().enqueue(message, delay=delay)

    for each in middleware:
        if isinstance(each, Retries):
            each.max_backoff = min(each.max_backoff, MAX_DELAY_MS)
    broker = LongDelaySQSBroker(
        middleware=middleware,
        dead_letter=True,
        visibility_timeout=max(1, settings.visibility_timeout_ms // 1000),
        **sqs_options(url),
    )
    broker.add_middleware(LongDelays())
    # The HTTP functions enqueue without declaring actors; dramatiq-sqs sends only to declared queues.
    broker.declare_queue(settings.queue_name)
    return broker
