"""`minqing serve` in a subprocess, reached over real HTTP: what the integration tests and the benchmarks
run the service as."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`minqing serve` in a subprocess, reached over real HTTP."""

    def __init__(self, env: dict, tmp_path: Path, *, with_worker: bool = True, base_url: bool = True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # base_url=False: no MINQING_BASE_URL, as a first `minqing serve --port N` runs.
        self.env = {k: v for k, v in {**os.environ, **env}.items() if base_url or k != "MINQING_BASE_URL"}
        if base_url:
            self.env["MINQING_BASE_URL"] = self.url
        self.log = open(tmp_path / f"serve-{self.port}.log", "w")
        flag = "--with-worker" if with_worker else "--no-with-worker"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "minqing", "serve", "--port", str(self.port), "--web-workers", "2", flag],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()  # a server that never came up must not outlive the test
            raise

    def _wait_until_up(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"minqing serve exited: {Path(self.log.name).read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).ok:
                    return
            except requests.RequestException:  # not listening yet, or a busy machine slow to answer
                pass
            time.sleep(0.1)
        raise RuntimeError("minqing serve did not start in 60 s")

    def post(self, path: str, **kwargs):
        return requests.post(self.url + path, timeout=15, **kwargs)

    def get(self, path: str, **kwargs):
        return requests.get(self.url + path, timeout=15, **kwargs)

    def stop(self):
        import signal

        # The whole process group: gunicorn and the worker too, even if `serve` itself has already gone.
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=40)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
