"""`minqing serve`: gunicorn for the HTTP functions, plus a worker process on the embedded default.

A small supervisor: it restarts the worker if it dies and stops everything on SIGTERM/SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from minqing.settings import Settings

SWEEP_EVERY_S = 3600


def serve(settings: Settings, *, host: str, port: int, web_workers: int, with_worker: bool) -> int:
    # The children's links (a 202's status_url, a message's one-tap link) name where this serve listens,
    # unless MINQING_BASE_URL says otherwise.
    env = dict(os.environ, MINQING_DATA_DIR=str(settings.data_dir), MINQING_SECRET_KEY=settings.secret_key,
               MINQING_HOST=host, MINQING_PORT=str(port))
    web_command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(web_workers),
        # Threads keep a few slow phones on weak networks from holding every worker.
        "--worker-class", "gthread", "--threads", str(settings.web_threads),
        "--access-logfile", "-",
        "--graceful-timeout", "20",
        "functions.wsgi:app",
    ]
    worker_command = [sys.executable, "-m", "minqing", "worker"]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    worker = subprocess.Popen(worker_command, env=env) if with_worker else None
    web = subprocess.Popen(web_command, env=env)
    print(f"minqing is serving on http://{host}:{port}/ (queue: {settings.broker_url.split(':')[0]}, "
          f"workers: {'in this process group' if with_worker else 'run `minqing worker` separately'})", flush=True)
    code = 0
    # With its own worker, serve also runs the hourly sweep (auto-close, overdue, unclaimed uploads), so the embedded
    # default needs no cron; elsewhere cron or a timer runs `minqing cases sweep`.
    sweep_command = [sys.executable, "-m", "minqing", "cases", "sweep"]
    sweep, next_sweep = None, time.monotonic() + 60
    while not stopping:
        time.sleep(0.5)
        if with_worker and time.monotonic() >= next_sweep and (sweep is None or sweep.poll() is not None):
            sweep, next_sweep = subprocess.Popen(sweep_command, env=env), time.monotonic() + SWEEP_EVERY_S
        if web.poll() is not None:
            code = web.returncode
            break
        if worker is not None and worker.poll() is not None:
            print(f"worker exited with {worker.returncode}; restarting it", file=sys.stderr, flush=True)
            worker = subprocess.Popen(worker_command, env=env)
    for child in (web, worker, sweep):
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in (web, worker, sweep):
        if child is not None:
            try:
                child.wait(timeout=40)
            except subprocess.TimeoutExpired:
                child.kill()
    return code
