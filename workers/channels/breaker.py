"""A circuit breaker per channel target: after a few timeouts in a row, fail at once for a while.

A send that times out holds a worker thread for the whole timeout (`MINQING_CHANNEL_TIMEOUT_S`). With a
robot or mail server that has stopped answering, every thread ends up waiting on it, and nothing else
moves: not storing, not counting, not the other channels. Once a target has timed out `threshold` times
in a row, sends to it fail at once, as failed attempts (so retries, and then the fallback to the staff
member's next channel, go on at their own pace), until `cooldown` seconds have passed; then one send is
let through to try it again. State is per worker process: each learns on its own, in `threshold` sends.
"""

from __future__ import annotations

import threading
import time

from workers.channels.http import ChannelError, ChannelTimeout

# boto3's timeouts (SES, SNS) are not TimeoutError; their names say what they are.
_TIMEOUT_NAMES = frozenset({"ReadTimeoutError", "ConnectTimeoutError"})


class CircuitOpen(ChannelError):
    """The target timed out too often lately: not tried this time."""


def is_timeout(error: BaseException) -> bool:
    return isinstance(error, (TimeoutError, ChannelTimeout)) or type(error).__name__ in _TIMEOUT_NAMES


class Breaker:
    def __init__(self, threshold: int, cooldown: float, clock=time.monotonic):
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self._lock = threading.Lock()
        self._timeouts: dict[str, int] = {}
        self._open_until: dict[str, float] = {}

    def check(self, key: str) -> None:
        """Raise CircuitOpen unless a send to `key` may be tried now."""
        with self._lock:
            until = self._open_until.get(key)
            if until is None:
                return
            now = self.clock()
            if now < until:
                raise CircuitOpen(f"{key}: {self._timeouts.get(key, 0)} timeouts in a row; "
                                  f"not tried for another {until - now:.0f} s")
            # Cooled down: this send tries the target; the others keep failing at once until it answers.
            self._open_until[key] = now + self.cooldown

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._timeouts.pop(key, None)
            self._open_until.pop(key, None)

    def failed(self, key: str, error: BaseException) -> None:
        if isinstance(error, CircuitOpen):
            return
        with self._lock:
            if not is_timeout(error):
                self._timeouts.pop(key, None)  # it answered, if only to refuse: not a thread trap
                return
            count = self._timeouts[key] = self._timeouts.get(key, 0) + 1
            if self.threshold and count >= self.threshold:
                self._open_until[key] = self.clock() + self.cooldown
