"""Dramatiq's Redis broker, made to give back what a worker held when its connection to Redis broke.

Dramatiq's worker restarts a consumer after a connection error and drops the messages that consumer had
prefetched (and any whose fetch reply was lost). Redis still lists them as taken by this worker, whose
heartbeat goes on, so they would wait until the worker process stops. On such a restart we take a new
broker id: the old one's heartbeat stops, and maintenance gives its messages back after the heartbeat
timeout. Messages still in progress then run twice, which the idempotent actors make harmless.
"""

from __future__ import annotations

from uuid import uuid4

from dramatiq.brokers.redis import RedisBroker


class RecoveringRedisBroker(RedisBroker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._consumed: set[str] = set()

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        if queue_name in self._consumed:
            self.logger.warning("Consumer of %r restarted: messages it held come back after the heartbeat "
                                "timeout.", queue_name)
            self.broker_id = str(uuid4())
        self._consumed.add(queue_name)
        return super().consume(queue_name, prefetch, timeout)
