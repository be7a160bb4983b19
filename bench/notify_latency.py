"""Benchmark: time from a submission's 202 to its message reaching the local WeCom robot and SMTP peers.

    python bench/notify_latency.py                       # embedded default and Redis + PostgreSQL
    python bench/notify_latency.py --backends embedded --count 200 --rate 10
Submissions are sent one at a time at `--rate` per second (latency, not throughput, is measured);
the robots' 20-a-minute quota is lifted for the run. Prints p50/p95/p99/max; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import backend_env  # noqa: E402
from minqing.testing.live import LiveServer  # noqa: E402
from minqing.testing.peers import RobotPeer, SMTPPeer, directory_toml, peer_env  # noqa: E402

REPORT = json.loads((ROOT / "tests/samples/hazard.json").read_text())["valid"][0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(name: str, count: int, rate: float) -> None:
    robots, smtp = RobotPeer(), SMTPPeer()
    with tempfile.TemporaryDirectory() as tmp:
        env, cleanup = backend_env(name, Path(tmp) / "var")
        directory = Path(tmp) / "directory.toml"
        directory.write_text(directory_toml())
        env.update(MINQING_DIRECTORY=str(directory), MINQING_ROBOT_PER_MINUTE="1000000", **peer_env(robots, smtp))
        server = LiveServer(env, Path(tmp))
        try:
            accepted: dict[str, float] = {}
            session = requests.Session()
            for i in range(count):
                started = time.monotonic()
                response = session.post(server.url + "/api/v1/hazard-reports", json=REPORT, timeout=15)
                accepted[response.json()["receipt"]] = time.time()
                time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
            deadline = time.time() + 120
            while time.time() < deadline and (len(robots.received) < count or len(smtp.messages) < count):
                time.sleep(0.2)
            wecom = [m["at"] - accepted[r] for m in robots.at("/wecom/grid")
                     for r in accepted if r in m["json"]["markdown"]["content"]]
            mail = [m["at"] - accepted[r] for m, parsed in zip(smtp.messages, smtp.parsed())
                    for r in accepted if r in parsed["Subject"]]
            for peer, values in (("WeCom robot", wecom), ("SMTP", mail)):
                ms = [v * 1000 for v in values]
                print(f"{name:16} {peer:12} n={len(ms):4}  p50 {percentile(ms, 50):7.1f} ms  "
                      f"p95 {percentile(ms, 95):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms  "
                      f"mean {statistics.mean(ms):7.1f} ms", flush=True)
        finally:
            server.stop()
            robots.stop()
            smtp.stop()
            cleanup()
            kept = Path(tempfile.gettempdir()) / f"notify-latency-{name.replace('+', '-')}.log"
            kept.write_text(Path(server.log.name).read_text())
            print(f"{name:16} server log kept in {kept}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["embedded", "redis+postgres"])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="submissions per second")
    args = parser.parse_args()
    for name in args.backends:
        run(name, args.count, args.rate)


if __name__ == "__main__":
    main()
