"""What the case page's small map costs on PostgreSQL with many cases: EXPLAIN (ANALYZE, BUFFERS) of its
neighbours query, and the case page's server time with the small map and without it (the page before it),
alternating in one process over the same data, with SVG and with tiles.

    python bench/case_map.py [--cases 100000] [--requests 60]

Seeds like bench/console.py (hazards over the demo street) and times through the app in process. Prints
figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.console import seed
from bench.intake import scratch_database


def p50_p95(times: list[float]) -> str:
    times = sorted(times)
    return f"{statistics.median(times):.1f}/{times[int(len(times) * 0.95) - 1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    url, drop = scratch_database()
    os.environ.update(MINQING_DATABASE_URL=url, MINQING_DATA_DIR=tempfile.mkdtemp(prefix="minqing-case-map-"),
                      MINQING_SECRET_KEY="bench-" + "k" * 32, MINQING_LOG_LEVEL="WARNING",
                      MINQING_RATE_LIMIT_PER_ADDRESS="off")
    try:
        from dramatiq.brokers.stub import StubBroker
        from sqlalchemy import select, text

        from functions.app import create_app
        from functions.console import pages
        from minqing.directory import load_configured_directory
        from minqing.domain import workflow
        from minqing.settings import load_settings
        from minqing.store import scopes, sessions
        from minqing.store.engine import make_engine, upgrade
        from minqing.store.tables import submissions

        settings = load_settings()
        engine = make_engine(url)
        upgrade(engine)
        ids = seed(engine, args.cases)
        case = ids[2]  # in 千家街 (communities go round)
        directory = load_configured_directory(settings)
        with engine.connect() as connection:
            open_there = connection.execute(select(text("count(*)")).select_from(submissions).where(
                submissions.c.community == "qianjiajie", submissions.c.status.in_(workflow.OPEN_STATUSES))).scalar()
            print(f"{args.cases:,} cases; {open_there:,} open hazards in 千家街")
            for staff_id in ("street-leader", "qjj-grid"):
                query = (select(submissions.c.id, submissions.c.payload["location"])
                         .where(scopes.scope_clause(directory.staff[staff_id]), submissions.c.kind == "hazard",
                                submissions.c.status.in_(workflow.OPEN_STATUSES),
                                submissions.c.community == "qianjiajie")
                         .order_by(submissions.c.submitted_at.desc()).limit(60))
                sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
                plan = connection.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
                print(f"--- {staff_id}: the neighbours\n" + "\n".join(plan))
        with_map = pages.case_map
        for tiles in (False, True):
            shown = settings._replace(map_tiles="https://t{s}.tiles.example/{z}/{x}/{y}.png",
                                      map_attribution="bench") if tiles else settings
            app = create_app(shown, broker=StubBroker())
            for staff_id in ("street-leader", "qjj-grid"):
                client = app.test_client()
                with engine.begin() as connection:
                    cookie, _ = sessions.start(connection, staff_id, via="bench", hours=1)
                client.set_cookie("mq_staff", cookie)
                on, off = [], []
                for i in range(2 * args.requests + 2):  # alternating; the first two warm up
                    pages.case_map = with_map if i % 2 else (lambda *a, **k: None)
                    started = time.perf_counter()
                    assert client.get(f"/staff/cases/{case}").status_code == 200
                    if i >= 2:
                        (on if i % 2 else off).append((time.perf_counter() - started) * 1000)
                pages.case_map = with_map
                print(f"{'tiles' if tiles else 'svg  '} {staff_id:14} case page p50/p95 without the small map "
                      f"{p50_p95(off)}, with it {p50_p95(on)}")
        engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
