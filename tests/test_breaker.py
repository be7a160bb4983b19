"""The circuit breaker in front of each channel target (workers/channels/breaker.py)."""

import socket
import threading

import pytest

from workers.channels.breaker import Breaker, CircuitOpen
from workers.channels.http import ChannelError, ChannelTimeout, post_json


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_it_opens_after_timeouts_in_a_row_and_fails_at_once():
    breaker = Breaker(3, 30, clock=Clock())
    for _ in range(2):
        breaker.check("wecom:a")
        breaker.failed("wecom:a", TimeoutError())
    breaker.check("wecom:a")
    breaker.failed("wecom:a", ChannelTimeout("robot did not answer"))
    with pytest.raises(CircuitOpen):
        breaker.check("wecom:a")
    breaker.check("wecom:b")  # another robot is not affected


def test_an_answer_of_any_kind_starts_the_count_again():
    breaker = Breaker(2, 30, clock=Clock())
    breaker.failed("smtp", TimeoutError())
    breaker.failed("smtp", ChannelError("HTTP 500"))  # refused, but it answered: no thread was held
    breaker.failed("smtp", TimeoutError())
    breaker.check("smtp")


def test_after_the_cooldown_one_send_tries_again_and_success_closes_it():
    clock = Clock()
    breaker = Breaker(1, 30, clock=clock)
    breaker.failed("wecom:a", TimeoutError())
    clock.now = 31
    breaker.check("wecom:a")  # the one that tries
    with pytest.raises(CircuitOpen):
        breaker.check("wecom:a")  # the others wait for its answer
    breaker.failed("wecom:a", CircuitOpen("skipped"))  # a skipped send says nothing about the target
    breaker.succeeded("wecom:a")
    breaker.check("wecom:a")


def test_a_failed_try_after_the_cooldown_opens_it_again():
    clock = Clock()
    breaker = Breaker(1, 30, clock=clock)
    breaker.failed("smtp", TimeoutError())
    clock.now = 31
    breaker.check("smtp")
    breaker.failed("smtp", TimeoutError())
    clock.now = 40
    with pytest.raises(CircuitOpen):
        breaker.check("smtp")


def test_a_threshold_of_zero_never_opens():
    breaker = Breaker(0, 30, clock=Clock())
    for _ in range(10):
        breaker.failed("smtp", TimeoutError())
    breaker.check("smtp")


def test_a_peer_that_does_not_answer_in_time_is_a_timeout():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    with pytest.raises(ChannelTimeout):
        post_json(f"http://127.0.0.1:{listener.getsockname()[1]}/wecom", {"msgtype": "text"}, timeout=0.3)
    listener.close()
