"""Brokers, chosen by the scheme of MINQING_BROKER_URL: `sqlite:` (embedded), `redis:`, `amqp:`, `sqs:`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dramatiq.broker import Broker


# The names of the actors that a process which only sends (a web process, the scheduler) queues messages
# for: the functions of workers.actors and workers.notifications (a test keeps them the same).
STORE_SUBMISSION = "store_submission"
NOTIFY_ASSIGNEES = "notify_assignees"
SEND_DIGESTS = "send_digests"
TELL_REPORTER = "tell_reporter"
NUDGE_ASSIGNEES = "nudge_assignees"
CHECK_PHOTO = "check_photo"
REMIND_REPORTER = "remind_reporter"
SEND_SIGN_IN_LINK = "send_sign_in_link"


def default_middleware(settings) -> list:
    # Imported here, not with the names above: a web function imports those at its cold start.
    from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications, TimeLimit

    return [
        AgeLimit(),
        TimeLimit(time_limit=5 * 60_000),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=settings.max_retries,
            min_backoff=settings.min_backoff_ms,
            max_backoff=settings.max_backoff_ms,
        ),
    ]


def make_broker(settings, *, middleware: list | None = None) -> Broker:
    """The broker `settings.broker_url` names, with our retry policy."""
    url = settings.broker_url
    scheme = url.split(":", 1)[0].lower()
    middleware = default_middleware(settings) if middleware is None else middleware
    if scheme == "sqlite":
        from workers.brokers.sqlite import SQLiteBroker

        return SQLiteBroker(
            sqlite_path(url), middleware=middleware, visibility_timeout=settings.visibility_timeout_ms
        )
    if scheme in ("redis", "rediss"):
        import redis

        from workers.brokers.redis import RecoveringRedisBroker

        # Short timeouts: an unreachable Redis must turn into a quick 503, not a hung request.
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
        return RecoveringRedisBroker(
            client=client,
            middleware=middleware,
            heartbeat_timeout=settings.visibility_timeout_ms,
            # Maintenance is what gives a dead worker's messages back; run it often enough to notice.
            maintenance_chance=10_000,
        )
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: enqueue returns only once RabbitMQ has the message.
        return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    if scheme == "sqs":
        from workers.brokers.sqs import make_sqs_broker

        return make_sqs_broker(url, settings, middleware)
    raise ValueError(f"MINQING_BROKER_URL: unknown scheme {scheme!r} (use sqlite, redis, amqp or sqs)")


def sqlite_path(url: str) -> str:
    """`sqlite:///relative.db` or `sqlite:////absolute/queue.db`, as SQLAlchemy writes them."""
    path = url.split(":", 1)[1]
    if not path.startswith("///"):
        raise ValueError(f"MINQING_BROKER_URL: expected sqlite:///path, got {url!r}")
    return path[3:]


def ping(broker: Broker) -> None:
    """Raise unless the broker answers."""
    if hasattr(broker, "ping"):
        broker.ping()
    elif hasattr(broker, "client"):
        broker.client.ping()
    elif hasattr(broker, "sqs"):
        broker.sqs.meta.client.list_queues(MaxResults=1)
    elif hasattr(broker, "parameters"):
        import pika

        parameters = broker.parameters[0] if isinstance(broker.parameters, list) else broker.parameters
        pika.BlockingConnection(parameters).close()
