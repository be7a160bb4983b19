"""Actors declared at module level, and bound to a runtime's broker when a worker is built.

Dramatiq's own `@dramatiq.actor` declares on the global broker at import time. Ours wait for `bind`, so the
actors are importable by name (`from workers.actors import store_submission`) while each worker, and each
test, declares them on the broker it built, with its settings' queues and retry policy.
"""

from __future__ import annotations

import functools

import dramatiq

REGISTERED: list["Actor"] = []
_bound = None


def timers_queue(settings) -> str:
    """SLA timers wait hours or days: a queue of their own keeps them out of the way (and out of what
    `join` waits for in tests)."""
    return f"{settings.queue_name}_timers"


class Actor:
    """A function that runs as a Dramatiq actor once bound; called directly, it is the plain function."""

    def __init__(self, fn, *, timer: bool = False, retry_policy=None):
        functools.update_wrapper(self, fn)
        self.fn, self.actor_name = fn, fn.__name__
        self.timer, self.retry_policy = timer, retry_policy
        self.declared: dramatiq.Actor | None = None
        REGISTERED.append(self)

    def declare(self, runtime) -> dramatiq.Actor:
        settings = runtime.settings
        self.declared = dramatiq.Actor(
            self.fn, broker=runtime.broker, actor_name=self.actor_name, priority=0,
            queue_name=timers_queue(settings) if self.timer else settings.queue_name,
            options=self.retry_policy(settings) if self.retry_policy else {})
        return self.declared

    def send(self, *args, **kwargs):
        return self._declared().send(*args, **kwargs)

    def send_with_options(self, **options):
        return self._declared().send_with_options(**options)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def _declared(self) -> dramatiq.Actor:
        if self.declared is None:
            raise RuntimeError(f"actor {self.actor_name} is not bound to a broker (workers.main.build binds it)")
        return self.declared


def actor(fn=None, **options):
    """Register `fn` as an actor: `@actor`, or `@actor(timer=True)` for the SLA timers' queue."""
    if fn is None:
        return lambda f: Actor(f, **options)
    return Actor(fn, **options)


def bind(runtime) -> None:
    """Declare every registered actor on `runtime.broker`; from now on the actors work with `runtime`."""
    global _bound
    _bound = runtime
    for registered in REGISTERED:
        registered.declare(runtime)


def runtime():
    """The runtime the actors were bound to: the worker's settings, database, directory and channels."""
    if _bound is None:
        raise RuntimeError("the actors are not bound to a runtime (workers.main.build binds them)")
    return _bound
