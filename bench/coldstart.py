"""Cold-start import cost of each Lambda entry point, from `python -X importtime`.

    python bench/coldstart.py [--runs 7] [--bytecode]

For each handler module it prints the minimum and median total import time (the module and everything it
pulls in, building the app included) and the largest top-level packages, then the cost of the first request
on the embedded queue (which imports Dramatiq and the queue client). The machine's load shows up in these
figures: run it on a quiet machine, take the minimum, and compare with `python -X importtime -c pass`.

Where Python cannot write bytecode (PYTHONDONTWRITEBYTECODE, or Lambda's read-only code directory) our own
modules are compiled from source at every cold start; `--bytecode` compiles them first (`compileall`,
hash-checked) to measure a deployment that ships its bytecode.
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
from minqing.testing.lambda_events import LambdaContext, http_v2
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


def importtime(modules: str, env: dict) -> list[tuple[int, int, str]]:
    """`python -X importtime -c "import <modules>"`: (self µs, cumulative µs, name as indented) per line."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {modules}"], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    rows = []
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            self_us, cumulative_us, name = line[len("import time:"):].split("|")
            rows.append((int(self_us), int(cumulative_us), name))
    return rows


def import_profile(module: str, env: dict) -> tuple[float, dict[str, float]]:
    """Total import time of `module` in ms, and its self time split by top-level package."""
    tree: list[tuple[int, str]] = []
    for self_us, cumulative_us, name in importtime(module, env):
        if name.strip() == module and not name.startswith("  "):
            by_package: dict[str, float] = defaultdict(float)
            for self_time, imported in tree:
                by_package[imported.split(".")[0]] += self_time / 1000
            return cumulative_us / 1000, dict(by_package)
        if not name.startswith("  "):
            tree = []  # the end of an import tree of the interpreter's own start-up, not of `module`
            continue
        tree.append((self_us, name.strip()))
    raise RuntimeError(f"{module} not in the importtime output")


LIBRARIES = ("flask", "marshmallow", "apig_wsgi")


def libraries_ms(env: dict) -> float:
    """Total import time of the libraries every handler needs (Flask, marshmallow, apig-wsgi), in ms: the
    floor under any handler of ours, the rest of which is our own."""
    return sum(cumulative_us for _, cumulative_us, name in importtime(", ".join(LIBRARIES), env)
               if name.strip() in LIBRARIES and not name.startswith("  ")) / 1000


def cpu_ms(code: str, env: dict) -> float:
    """CPU time (user + system) of a fresh interpreter running `code`: less sensitive to load than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bytecode", action="store_true", help="compile our packages first (compileall)")
    args = parser.parse_args()
    if args.bytecode:
        # Hash-checked, as a deployment package should carry them: a ZIP's timestamps need not match the
        # sources', and a timestamp-checked .pyc that does not match is compiled again.
        subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash",
                        "minqing", "functions", "schemas", "workers"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "MINQING_DATA_DIR": data_dir, "MINQING_SECRET_KEY": "coldstart-" + "k" * 32,
               "PYTHONPATH": str(ROOT), "MINQING_LOG_LEVEL": "ERROR"}
        bare = statistics.median(cpu_ms("pass", env) for _ in range(args.runs))
        print(f"load average {os.getloadavg()[0]:.1f}; a bare interpreter start costs {bare:.0f} ms of CPU")
        floor = [libraries_ms(env) for _ in range(args.runs)]
        print(f"{' + '.join(LIBRARIES)} alone: importtime min {min(floor):4.0f} / median "
              f"{statistics.median(floor):4.0f} ms (what any handler costs before any code of ours)")
        for module in MODULES:
            profiles = [import_profile(module, env) for _ in range(args.runs)]
            totals = [p[0] for p in profiles]
            fastest = min(profiles)
            biggest = sorted(fastest[1].items(), key=lambda kv: -kv[1])[:4]
            parts = ", ".join(f"{name} {ms:.0f}" for name, ms in biggest)
            cpus = [cpu_ms(f"import {module}", env) - bare for _ in range(args.runs)]
            print(f"{module:28s} importtime min {min(totals):4.0f} / median {statistics.median(totals):4.0f} ms, "
                  f"CPU min {min(cpus):4.0f} / median {statistics.median(cpus):4.0f} ms "
                  f"over {args.runs} runs ({parts})")
        firsts = []
        for _ in range(args.runs):
            run = subprocess.run([sys.executable, "-c", FIRST_REQUEST.format(root=str(ROOT))], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            firsts.append(json.loads(run.stdout.splitlines()[-1]))
        print(f"first hazard report on the embedded queue: median {statistics.median(f['ms'] for f in firsts):.0f} ms, "
              f"answer {firsts[0]['status']}, newly imported: {', '.join(firsts[0]['new'])}")


if __name__ == "__main__":
    main()
