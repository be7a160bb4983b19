"""Benchmark: POSTs on the embedded queue with the queue writer and without, side by side.

    python bench/queue_writer.py [--rounds 3] [--seconds 6]

Two servers run at once, each with its own data folder: `minqing serve` (which starts a queue writer) and
the same gunicorn command alone (whose web processes write the queue file themselves). wrk loads both at the same moment, so the two see the same machine: on a shared machine whose
speed moves by a third from minute to minute, that is the only comparison of the two that holds still.
Needs `wrk`; prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import REPORT, WRK_POST, backend_env, free_port, start, stop, wait_ready, wrk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=8, help="per server")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes per server")
    args = parser.parse_args()
    servers, logs = [], []
    try:
        for writer in (True, False):
            env, _ = backend_env("embedded", Path(tempfile.mkdtemp(prefix="minqing-writer-bench-")))
            port = free_port()
            log = open(Path(env["MINQING_DATA_DIR"]) / "bench.log", "w")
            if writer:
                process = start(["serve", "--port", str(port), "--web-workers", str(args.web_workers), "--no-with-worker"], env, log)
            else:
                process = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(args.web_workers),
                     "--worker-class", "gthread", "--threads", "8", "--access-logfile", "-", "functions.wsgi:app"],
                    env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
            servers.append((writer, f"http://127.0.0.1:{port}", process))
            logs.append(log)
        for _, url, _ in servers:
            wait_ready(url)
        script = WRK_POST % json.dumps(REPORT, ensure_ascii=False)
        gains = []
        for _ in range(args.rounds):
            results = {}

            def load(writer, url):
                results[writer] = wrk(url + "/api/v1/hazard-reports", script, args.seconds, args.connections)

            threads = [threading.Thread(target=load, args=(w, u)) for w, u, _ in servers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with_writer, without = results[True], results[False]
            gains.append(with_writer["rps"] / without["rps"] - 1)
            print(f"with the writer {with_writer['rps']:.0f} req/s (p50 {with_writer['p50_ms']:.1f} ms, p99 "
                  f"{with_writer['p99_ms']:.1f} ms); without {without['rps']:.0f} req/s (p50 {without['p50_ms']:.1f} "
                  f"ms, p99 {without['p99_ms']:.1f} ms); {gains[-1]:+.0%}", flush=True)
        print(f"with the writer: {min(gains):+.0%} to {max(gains):+.0%}, mean {sum(gains) / len(gains):+.0%}")
    finally:
        for _, _, process in servers:
            stop(process)
        for log in logs:
            log.close()
            shutil.rmtree(Path(log.name).parent, ignore_errors=True)


if __name__ == "__main__":
    main()
