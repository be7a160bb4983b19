"""Running the workers: one process with a Dramatiq Worker over every actor."""

from __future__ import annotations

import logging

import dramatiq

from minqing.settings import Settings, redacted_url

log = logging.getLogger("minqing.workers")


def build(settings: Settings, *, broker=None, directory=None):
    """A runtime with its broker (our middleware added) and the actors declared on it."""
    from dramatiq.middleware import CurrentMessage

    from workers import actors, notifications, residents, sign_in  # noqa: F401 - importing them registers their actors
    from workers.brokers import make_broker
    from workers.middleware import DeadLetters
    from workers.registry import bind
    from workers.runtime import Runtime

    broker = broker or make_broker(settings)
    runtime = Runtime(settings=settings, broker=broker, directory=directory)
    broker.add_middleware(DeadLetters(lambda: runtime.engine))
    if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
        # Lets deliver_notification leave a note for its retry (SENT_AS).
        broker.add_middleware(CurrentMessage())
    bind(runtime)
    return runtime


def run_worker(settings: Settings, *, threads: int | None = None) -> int:
    """Process messages until SIGTERM or SIGINT; unfinished messages go back to the queue."""
    from minqing.stopping import block_stop_signals, wait_for_stop

    block_stop_signals()
    runtime = build(settings)
    worker = start_worker(runtime, threads or settings.worker_threads)
    log.info("worker started: %s threads on %s", worker.worker_threads, redacted_url(settings.broker_url))
    wait_for_stop()
    log.info("worker stopping")
    worker.stop(timeout=30_000)
    runtime.broker.close()
    return 0


def start_worker(runtime, threads: int) -> dramatiq.Worker:
    """A started Dramatiq Worker over the runtime's broker, its log lines free of messages' arguments."""
    from workers.log_privacy import hide_message_arguments

    hide_message_arguments(runtime.broker)
    worker = dramatiq.Worker(runtime.broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
