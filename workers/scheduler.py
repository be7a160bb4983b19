"""`minqing scheduler`: once a day, at MINQING_DIGEST_AT office time, enqueue the daily digests.

One small process; run exactly one per deployment (a second one is harmless: each digest is sent once per
staff member and day). SLA timers do not need it: they are delayed messages on the queue.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from dramatiq import Message

from minqing.domain.tallies import OFFICE_TZ
from workers.brokers import SEND_DIGESTS

log = logging.getLogger("minqing.scheduler")


def next_run(now: datetime, at: time) -> datetime:
    """The next moment, office time, at `at` strictly after `now`."""
    local = now.astimezone(OFFICE_TZ)
    candidate = datetime.combine(local.date(), at, tzinfo=OFFICE_TZ)
    return candidate if candidate > local else candidate + timedelta(days=1)


def enqueue_digests(broker, settings, day: str) -> None:
    broker.enqueue(Message(queue_name=settings.queue_name, actor_name=SEND_DIGESTS, args=(day,), kwargs={},
                           options={}))


def run_scheduler(settings, *, broker=None) -> int:
    from workers.brokers import make_broker

    from minqing.stopping import block_stop_signals, wait_for_stop

    block_stop_signals()
    broker = broker or make_broker(settings)
    broker.declare_queue(settings.queue_name)
    at = time.fromisoformat(settings.digest_at)
    now = datetime.now(OFFICE_TZ)
    if now.time() >= at:
        # Started (or restarted) after today's time: today's digest may be missing; asking again is harmless.
        enqueue_digests(broker, settings, now.date().isoformat())
    log.info("scheduler started: daily digests at %s (UTC+8)", settings.digest_at)
    while True:
        due = next_run(datetime.now(OFFICE_TZ), at)
        if wait_for_stop((due - datetime.now(OFFICE_TZ)).total_seconds()):
            break
        enqueue_digests(broker, settings, due.date().isoformat())
        log.info("daily digests for %s enqueued", due.date().isoformat())
    broker.close()
    return 0
