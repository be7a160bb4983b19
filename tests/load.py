"""Load for the scale and fault tests: many clients posting hazard reports, each retrying a 503 with its
idempotency key as a phone would, and workers started and killed as separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from tests.conftest import SAMPLES

REPORTS = json.loads((SAMPLES / "hazard.json").read_text())["valid"]


@dataclass
class Outcome:
    sent: int = 0
    receipts: set = field(default_factory=set)  # of submissions answered 202
    statuses: Counter = field(default_factory=Counter)  # every answer, retries included
    gave_up: int = 0

    @property
    def accepted(self) -> int:
        return len(self.receipts)


def post_reports(base_url: str, total: int, *, prefix: str, clients: int = 8, retry_for: float = 60,
                 pace: float = 0.0, reports: list[dict] = REPORTS) -> Outcome:
    """POST `total` reports (taken in turn from `reports`) from `clients` threads; a 503 or a refused
    connection is retried with the same Idempotency-Key for up to `retry_for` seconds. `pace` spaces each
    client's posts, to spread the load."""
    outcome = Outcome()
    lock = threading.Lock()
    local = threading.local()

    def one(i: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        key = f"{prefix}-{i}"
        deadline = time.monotonic() + retry_for
        with lock:
            outcome.sent += 1
        while True:
            try:
                response = session.post(f"{base_url}/api/v1/hazard-reports", json=reports[i % len(reports)],
                                        headers={"Idempotency-Key": key}, timeout=20)
                status = response.status_code
            except requests.RequestException:
                status = "no answer"
            with lock:
                outcome.statuses[status] += 1
                if status == 202:
                    outcome.receipts.add(response.json()["receipt"])
            if status != 503 and status != "no answer":
                return
            if time.monotonic() > deadline:
                with lock:
                    outcome.gave_up += 1
                return
            time.sleep(0.5)

    def paced(i: int) -> None:
        one(i)
        if pace:
            time.sleep(pace)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(paced, range(total)))
    return outcome


class Workers:
    """`minqing worker` processes, each in its own process group so a kill reaches all its children."""

    def __init__(self, env: dict, log_dir, count: int):
        self.env = {**os.environ, **env}
        self.log_dir = log_dir
        self.started = 0
        self.processes = [self.start() for _ in range(count)]

    def start(self) -> subprocess.Popen:
        self.started += 1
        log = open(self.log_dir / f"worker-{self.started}.log", "w")
        return subprocess.Popen([sys.executable, "-m", "minqing", "worker"], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def kill_and_replace(self, index: int) -> None:
        import signal

        os.killpg(self.processes[index].pid, signal.SIGKILL)
        self.processes[index].wait()
        self.processes[index] = self.start()

    def stop(self) -> None:
        import signal

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def log_lines(self, marker: str) -> int:
        return sum(marker in line for path in self.log_dir.glob("worker-*.log") for line in open(path))
