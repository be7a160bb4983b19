"""Rate limits for channels with a published quota (robots: 20 messages a minute), kept in the broker's store.

Redis keeps them in Redis (Dramatiq's RedisBackend); the embedded queue and RabbitMQ keep them in a
SQLite file under the data directory (workers/rate_limits/sqlite.py).
"""

from __future__ import annotations

from dramatiq.rate_limits import WindowRateLimiter


def make_backend(settings, broker):
    """The rate limiter backend that lives beside `broker`."""
    client = getattr(broker, "client", None)
    if client is not None:
        from dramatiq.rate_limits.backends import RedisBackend

        return RedisBackend(client=client)
    from workers.rate_limits.sqlite import SQLiteBackend

    # One file per machine: with RabbitMQ on several machines each machine counts its own sends.
    return SQLiteBackend(settings.data_dir / "rate_limits.db")


def take(backend, key: str, per_minute: int) -> bool:
    """Use one of `per_minute` sends allowed to `key` over a sliding minute; False when none is left."""
    limiter = WindowRateLimiter(backend, f"minqing-rate:{key}", limit=per_minute, window=60)
    with limiter.acquire(raise_on_failure=False) as acquired:
        return acquired
