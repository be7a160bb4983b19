"""Instructions a request costs, counted by valgrind: figures that do not move with the machine's speed.

    python bench/instructions.py                 # the working tree
    python bench/instructions.py --base HEAD~1   # and another revision beside it

On a shared machine requests/s drift by more than most changes we make (see `side_by_side.py`). Here each
case runs twice under `valgrind --tool=callgrind`, answering 100 and then 400 requests, and the difference
divided by 300 is what one request costs, start-up left out. Two ways of serving:
- a gunicorn worker (gthread, as `minqing serve` runs it, access log on) answering one request after
  another on a kept-alive connection: GET /healthz and the hazard-report POST of `intake.py`, its message
  committed to the embedded queue;
- the app alone, called in one thread without a server, and then parts of the POST on their own.
What valgrind does not count is the kernel's work (system calls, the disk) and the time threads spend
waiting on each other under load; `intake.py`'s ratio includes them, so it comes out below the ratio of
instructions. Python's hashing is seeded: the same folder counts the same to a few instructions, but two
folders holding the same code can differ by up to 2% (objects land elsewhere in memory), so --base runs
both from folders with paths of the same length, and smaller differences than that are not a result.
Needs valgrind (apt-get install valgrind); prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = {
    "gunicorn get": "GET /healthz, served by a gunicorn worker",
    "gunicorn post": "POST /api/v1/hazard-reports, served by a gunicorn worker",
    "get": "GET /healthz, the app alone",
    "post": "POST /api/v1/hazard-reports, the app alone",
    "validate": "  of which: the schema's load",
    "ids": "  of which: id and receipt",
    "enqueue": "  of which: the queue message, encoded and committed",
}
FEW, MANY = 100, 400


def child(case: str, count: int) -> None:
    """Run `count` of `case` in this process (under valgrind, started by `count_instructions`)."""
    # The checkout's own modules, not this file's folder's: nothing of ours is imported before this line.
    sys.path.insert(0, os.getcwd())
    from werkzeug.test import EnvironBuilder

    from bench.intake import REPORT as report
    from functions.wsgi import app

    body = json.dumps(report, ensure_ascii=False).encode()
    svc = app.extensions["minqing"]
    if case in ("get", "post"):
        builder = (EnvironBuilder(path="/healthz") if case == "get" else
                   EnvironBuilder(path="/api/v1/hazard-reports", method="POST", data=body,
                                  content_type="application/json"))
        environ = builder.get_environ()

        def run():
            for _ in app({**environ, "wsgi.input": io.BytesIO(body)}, lambda status, headers, exc=None: None):
                pass
    elif case == "validate":
        def run():
            svc.schemas["hazard"].load(report)
    elif case == "ids":
        from minqing.receipts import receipt_for, submission_id

        def run():
            receipt_for("bench", "hazard", submission_id("bench", "hazard"))
    else:
        content = svc.schemas["hazard"].load(report)
        envelope = {"id": "0e4d2a4e-7c57-4bd4-9f0e-2d3c8d3e1a55", "receipt": "H000-0000-0000", "kind": "hazard",
                    "data": content, "idempotency_key": None, "lang": "zh-CN",
                    "submitted_at": "2026-11-26T08:00:00+00:00"}

        def run():
            svc.enqueue_submission(envelope)
    for _ in range(30 + count):
        run()


def served(checkout: Path, case: str, count: int, env: dict) -> int:
    """Instructions of one gunicorn worker (gthread, as `minqing serve` runs it) that answers `count` requests
    one after another on a kept-alive connection, its start-up and shutdown included."""
    from bench.intake import REPORT, free_port

    port = free_port()
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", "gunicorn",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "8",
         "--access-logfile", "-", "functions.wsgi:app"],
        cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    deadline = time.monotonic() + 600  # the app's imports take minutes under valgrind
    while True:
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            connection.close()
            time.sleep(1)
    body = json.dumps(REPORT, ensure_ascii=False).encode()
    for _ in range(30 + count):
        if case == "gunicorn get":
            connection.request("GET", "/healthz")
        else:
            connection.request("POST", "/api/v1/hazard-reports", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
    connection.close()
    server.send_signal(signal.SIGTERM)
    _, errors = server.communicate(timeout=300)
    # The arbiter's count and the worker's: the worker, which imported the app and answered, did the more.
    return max(int(n) for n in re.findall(r"Collected : (\d+)", errors))


def count_instructions(checkout: Path, case: str) -> int:
    from bench.intake import backend_env

    def total(count: int) -> int:
        with tempfile.TemporaryDirectory(prefix="minqing-ir-") as data_dir:
            env = {**os.environ, **backend_env("embedded", Path(data_dir))[0], "PYTHONHASHSEED": "0"}
            if case.startswith("gunicorn"):
                return served(checkout, case, count, env)
            out = subprocess.run(
                ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                 "--child", case, str(count)],
                cwd=checkout, env=env, capture_output=True, text=True, check=True)
        return int(re.search(r"Collected : (\d+)", out.stderr).group(1))

    return round((total(MANY) - total(FEW)) / (MANY - FEW))


def copy_working_tree(to: Path) -> None:
    """The working tree's files as they are, tracked or new (not ignored ones), copied under `to`."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, to / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="a revision to count beside the working tree")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]))
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")
    checkouts, scratch = {"working tree": ROOT}, []
    if args.base:
        # Both from folders whose paths are as long: where the code lies moves the counts (see the docstring).
        base, tree = (Path(tempfile.mkdtemp(prefix="minqing-ir-")) for _ in range(2))
        scratch = [base, tree]
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(base), args.base], cwd=ROOT, check=True,
                       capture_output=True)
        copy_working_tree(tree)
        checkouts = {f"base {args.base}": base, "working tree": tree}
    try:
        # Each count is its own valgrind process: as many at once as there are cores.
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            futures = {name: {case: pool.submit(count_instructions, path, case) for case in CASES}
                       for name, path in checkouts.items()}
            counts = {name: {case: future.result() for case, future in cases.items()}
                      for name, cases in futures.items()}
    finally:
        if scratch:
            subprocess.run(["git", "worktree", "remove", "--force", str(scratch[0])], cwd=ROOT, capture_output=True)
            shutil.rmtree(scratch[1], ignore_errors=True)
    print(json.dumps(counts))
    print(f"{'instructions a request':60}" + "".join(f"{name:>16}" for name in counts))
    for case, label in CASES.items():
        print(f"{label:60}" + "".join(f"{counts[name][case]:>16,}" for name in counts))
    for name, figures in counts.items():
        print(f"{name}: GET / POST {figures['gunicorn get'] / figures['gunicorn post']:.3f} served by gunicorn, "
              f"{figures['get'] / figures['post']:.3f} the app alone")


if __name__ == "__main__":
    main()
