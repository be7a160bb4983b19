"""The storing actor alone: CPU per `store_submission` call, without Dramatiq's worker around it.

    python bench/store_actor.py [--backend postgres|sqlite] [--count 2000]

It runs the actor's function in a loop in one thread (its timer and delivery messages go to a StubBroker),
so the figure is our code plus SQLAlchemy and the driver; `bench/intake.py`'s CPU per submission, less this,
is what Dramatiq's handling of the messages costs. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import REPORT, scratch_database  # noqa: E402


def envelope(i: int) -> dict:
    sid = str(uuid.uuid4())
    return {"id": sid, "receipt": sid[:12], "kind": "hazard", "data": dict(REPORT, description=f"压测 {i}"),
            "body_hash": "bench", "submitted_at": "2026-11-26T03:00:00+00:00", "lang": "zh-CN"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="minqing-store-")
    if args.backend == "postgres":
        url, drop = scratch_database()
    else:
        url, drop = f"sqlite:///{data_dir}/minqing.db", lambda: None
    os.environ.update(MINQING_DATABASE_URL=url, MINQING_DATA_DIR=data_dir, MINQING_SECRET_KEY="bench-" + "k" * 32,
                      MINQING_LOG_LEVEL="WARNING")
    from dramatiq.brokers.stub import StubBroker

    from minqing.settings import load_settings
    from minqing.store import engine
    from workers.main import build

    runtime = build(load_settings(), broker=StubBroker())
    try:
        engine.upgrade(runtime.engine)
        store = runtime.broker.get_actor("store_submission").fn
        for i in range(200):  # connections, prepared statements, caches
            store(envelope(i))
        envelopes = [envelope(i) for i in range(args.count)]
        wall, cpu = time.perf_counter(), time.process_time()
        for e in envelopes:
            store(e)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"store_submission on {args.backend}: {cpu / args.count * 1000:.2f} ms CPU and "
              f"{wall / args.count * 1000:.2f} ms wall per call, over {args.count} calls in one thread")
    finally:
        runtime.engine.dispose()
        drop()


if __name__ == "__main__":
    main()
