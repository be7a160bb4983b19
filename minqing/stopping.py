"""Waiting for SIGTERM or SIGINT in a long-running command, without a signal handler.

A handler that sets a threading.Event takes a lock; a second signal arriving while the first is handled
(a supervisor forwards SIGTERM and `kill` to the process group sends it too) re-enters the handler and
deadlocks on that lock, and the process never stops. Blocking the signals and waiting for them avoids that.
"""

from __future__ import annotations

import signal

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def block_stop_signals() -> None:
    """Call before starting threads: they inherit the mask, so only `wait_for_stop` receives the signals."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def wait_for_stop(timeout: float | None = None) -> bool:
    """Wait for SIGTERM or SIGINT; True if one came, False if `timeout` seconds passed first."""
    if timeout is None:
        signal.sigwait(STOP_SIGNALS)
        return True
    return signal.sigtimedwait(STOP_SIGNALS, max(0.0, timeout)) is not None
