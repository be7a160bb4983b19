"""Benchmark: two revisions served side by side, loaded in turn, for changes smaller than the machine's drift.

    python bench/side_by_side.py                  # HEAD against the working tree, embedded default
    python bench/side_by_side.py --base 7ee544e --backend redis+postgres --rounds 4

Each revision runs its own `minqing serve` (two web processes, no worker) at the same time; wrk loads one
while the other idles, GET /healthz then POST hazard-reports, round after round. Besides requests/s it
prints what a request costs the web processes: CPU µs, cores used and context switches, from /proc. Those
move less with the machine than requests/s do. Needs wrk; prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import (REPORT, WRK_POST, backend, cpu_by_process, one_process, start, stop,  # noqa: E402
                          wait_ready, wrk)


def serve(checkout: Path, env: dict, url: str, log) -> subprocess.Popen:
    port = url.rsplit(":", 1)[1]
    return start(["serve", "--port", port, "--web-workers", "2", "--no-with-worker"], env, log, cwd=checkout)


def context_switches(group: int) -> int:
    total = 0
    for pid in cpu_by_process(group):
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in lines if "ctxt_switches:" in line)
    return total


def measured(group: int, url: str, script: str | None, seconds: int) -> dict:
    cpu, switches, started = cpu_by_process(group), context_switches(group), time.monotonic()
    result = wrk(url, script, seconds, 16)
    elapsed = time.monotonic() - started
    requests = result["rps"] * seconds
    used = [seconds_ - cpu.get(pid, 0.0) for pid, seconds_ in cpu_by_process(group).items()]
    total = sum(used)
    return {"rps": round(result["rps"]), "cpu_us": round(total * 1e6 / requests), "cores": round(total / elapsed, 2),
            "switches": round((context_switches(group) - switches) / requests, 1), "one_process": one_process(used)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="the revision to compare the working tree with")
    parser.add_argument("--backend", default="embedded", choices=["embedded", "redis+postgres"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="minqing-base-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True,
                   capture_output=True)
    post = WRK_POST % json.dumps(REPORT, ensure_ascii=False)
    try:
        with backend(args.backend) as (env_a, url_a, log_a), backend(args.backend) as (env_b, url_b, log_b):
            servers = {f"base {args.base}": (serve(base, env_a, url_a, log_a), url_a),
                       "working tree": (serve(ROOT, env_b, url_b, log_b), url_b)}
            try:
                for _, url in servers.values():
                    wait_ready(url)
                for round_ in range(1, args.rounds + 1):
                    for name, (server, url) in servers.items():
                        get = measured(server.pid, url + "/healthz", None, args.seconds)
                        hazard = measured(server.pid, url + "/api/v1/hazard-reports", post, args.seconds)
                        print(f"round {round_} {name}: GET {fmt(get)}; POST {fmt(hazard)}; "
                              f"ratio {hazard['rps'] / get['rps']:.3f}, by CPU {get['cpu_us'] / hazard['cpu_us']:.3f}",
                              flush=True)
            finally:
                for server, _ in servers.values():
                    stop(server)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)


def fmt(run: dict) -> str:
    alone = " (* one web process served it)" if run["one_process"] else ""
    return (f"{run['rps']} req/s, {run['cpu_us']} µs CPU, {run['cores']} cores, {run['switches']} switches a "
            f"request{alone}")


if __name__ == "__main__":
    main()
