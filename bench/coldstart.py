"""Cold-start import cost of each Lambda entry point, from `python -X importtime`.

    python bench/coldstart.py [--runs 7]

For each handler module it prints the median total import time (the module and everything it pulls in,
building the app included) and the largest top-level packages, then the cost of the first request on the
embedded queue (which imports Dramatiq and the queue client). The machine's load shows up in these
figures: run it on a quiet machine, and compare with `python -X importtime -c pass`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["functions.aws.hazard", "functions.aws.consultation", "functions.aws.enterprise",
           "functions.aws.receipts", "functions.aws.tallies"]
FIRST_REQUEST = """
import json, sys, time
from importlib import import_module
sys.path.insert(0, {root!r})
from tests.lambda_events import LambdaContext, http_v2
module = import_module("functions.aws.hazard")
before = set(sys.modules)
started = time.perf_counter()
event = http_v2("POST", "/api/v1/hazard-reports", headers={{"Content-Type": "application/json"}},
                body=json.dumps({{"community": "jiangling", "category": "lighting", "description": "路灯不亮",
                                 "location": {{"address": "江零社区东门"}}}}, ensure_ascii=False))
status = module.handler(event, LambdaContext())["statusCode"]
print(json.dumps({{"status": status, "ms": (time.perf_counter() - started) * 1000,
                  "new": sorted({{m.split(".")[0] for m in set(sys.modules) - before}})}}))
"""


def import_profile(module: str, env: dict) -> tuple[float, dict[str, float]]:
    """Total import time of `module` in ms, and its self time split by top-level package."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    tree: list[tuple[int, str]] = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:"):].split("|")
        if name.strip() == module and not name.startswith("  "):
            by_package: dict[str, float] = defaultdict(float)
            for self_time, imported in tree:
                by_package[imported.split(".")[0]] += self_time / 1000
            return int(cumulative_us) / 1000, dict(by_package)
        if not name.startswith("  "):
            tree = []  # the end of an import tree of the interpreter's own start-up, not of `module`
            continue
        tree.append((int(self_us), name.strip()))
    raise RuntimeError(f"{module} not in the importtime output")


def cpu_ms(code: str, env: dict) -> float:
    """CPU time (user + system) of a fresh interpreter running `code`: less sensitive to load than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "MINQING_DATA_DIR": data_dir, "MINQING_SECRET_KEY": "coldstart", "PYTHONPATH": str(ROOT),
               "MINQING_LOG_LEVEL": "ERROR"}
        bare = statistics.median(cpu_ms("pass", env) for _ in range(args.runs))
        print(f"load average {os.getloadavg()[0]:.1f}; a bare interpreter start costs {bare:.0f} ms of CPU")
        for module in MODULES:
            profiles = [import_profile(module, env) for _ in range(args.runs)]
            total = statistics.median(p[0] for p in profiles)
            biggest = sorted(profiles[0][1].items(), key=lambda kv: -kv[1])[:4]
            parts = ", ".join(f"{name} {ms:.0f}" for name, ms in biggest)
            cpu = statistics.median(cpu_ms(f"import {module}", env) for _ in range(args.runs)) - bare
            print(f"{module:28s} importtime median {total:4.0f} ms, CPU {cpu:4.0f} ms over {args.runs} runs ({parts})")
        firsts = []
        for _ in range(args.runs):
            run = subprocess.run([sys.executable, "-c", FIRST_REQUEST.format(root=str(ROOT))], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            firsts.append(json.loads(run.stdout.splitlines()[-1]))
        print(f"first hazard report on the embedded queue: median {statistics.median(f['ms'] for f in firsts):.0f} ms, "
              f"answer {firsts[0]['status']}, newly imported: {', '.join(firsts[0]['new'])}")


if __name__ == "__main__":
    main()
