"""Server time of the staff console's pages on PostgreSQL with many stored cases: p50/p95 per page.

    python bench/console.py [--cases 100000] [--requests 200]
    python bench/console.py --keep                          # leaves the seeded database, prints its URL
    python bench/console.py --database URL --only "list (" # times those pages on it, seeds nothing

Seeds `--cases` cases (hazards, consultations, enterprise requests over the demo street's communities, with
their assignment and history rows) by a bulk insert of the rows the store's path writes (search tokens and coordinates included), then signs a street
leader (who sees every case) and a grid worker in, and times the 问题清单 (/staff/cases, first page and a
filtered one), a case page and the map through the app in process: what the server spends, without the
network. Prints figures, asserts nothing. Targets: list p95 < 100 ms, case page p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import REPORT, scratch_database  # noqa: E402

COMMUNITIES = ("jiangling", "wunancun", "qianjiajie", "shouyi", "ziyang", "yuemachang", "changhu", "xiaochaohu")
GRID = {"jiangling": "jl-grid", "qianjiajie": "qjj-grid", "wunancun": "wn-grid", "shouyi": "sy-grid",
        "ziyang": "zy-grid", "yuemachang": "ymc-grid", "changhu": "ch-grid", "xiaochaohu": "xch-grid"}
HAZARD_CATEGORIES = ("fire_safety", "structure", "ev_charging", "sanitation", "lighting", "facility",
                     "traffic_parking", "other")
STATUSES = ("received", "acknowledged", "in_progress", "resolved", "closed", "rejected", "reopened")


def seed(engine, count: int) -> list[str]:
    from minqing.domain import search
    from minqing.store.tables import assignments, status_history, submissions

    now = datetime.now(timezone.utc)
    rng = random.Random(18)
    ids = []
    batch = 5000
    with engine.begin() as connection:
        for start in range(0, count, batch):
            rows, assigned, history = [], [], []
            for i in range(start, min(count, start + batch)):
                sid = str(uuid.UUID(int=rng.getrandbits(128)))
                community = COMMUNITIES[i % len(COMMUNITIES)]
                at = now - timedelta(minutes=i * 3)
                status = STATUSES[rng.randrange(len(STATUSES))]
                category = HAZARD_CATEGORIES[rng.randrange(len(HAZARD_CATEGORIES))]
                # A street of about 2 × 2 km.
                location = dict(REPORT["location"], lat=30.54 + rng.uniform(-0.01, 0.01),
                                lon=114.30 + rng.uniform(-0.01, 0.01))
                payload = dict(REPORT, community=community, category=category, location=location, description=f"压测案件 {i} {REPORT['description']}")
                rows.append(dict(id=sid, receipt=f"B{i:011d}", kind="hazard", community=community, category=category,
                                 priority="high", status=status, payload=payload, body_hash="bench",
                                 idempotency_key=None, lang="zh-CN", submitted_at=at, stored_at=at, updated_at=at,
                                 due_at=at + timedelta(days=1), search_grams=search.grams_of(payload),
                                 lat=location["lat"], lon=location["lon"]))
                assigned.append(dict(submission_id=sid, staff_id=GRID[community], position=0, assigned_at=at))
                history.append(dict(submission_id=sid, status="received", at=at, actor="system", note=""))
                ids.append(sid)
            connection.execute(submissions.insert(), rows)
            connection.execute(assignments.insert(), assigned)
            connection.execute(status_history.insert(), history)
    # As autovacuum leaves a live database: statistics and the visibility map (index-only counts).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    return ids


def timed(client, path: str, n: int) -> tuple[float, float]:
    client.get(path)  # warm: templates compiled, statements cached
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its URL is printed)")
    parser.add_argument("--database", help="a database seeded by --keep: time it again without seeding")
    parser.add_argument("--only", default="", help="time only the pages whose name holds this")
    args = parser.parse_args()
    if args.database:
        url, drop = args.database, lambda: None
    else:
        url, drop = scratch_database()
        if args.keep:
            print(f"database kept: {url}")
            drop = lambda: None
    data_dir = tempfile.mkdtemp(prefix="minqing-console-")
    os.environ.update(MINQING_DATABASE_URL=url, MINQING_DATA_DIR=data_dir, MINQING_SECRET_KEY="bench-" + "k" * 32,
                      MINQING_LOG_LEVEL="WARNING", MINQING_RATE_LIMIT_PER_ADDRESS="off")
    try:
        from dramatiq.brokers.stub import StubBroker

        from functions.app import create_app
        from minqing.settings import load_settings
        from minqing.store import sessions
        from minqing.store.engine import make_engine, upgrade

        settings = load_settings()
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        if args.database:
            from sqlalchemy import select

            from minqing.store.tables import submissions

            with engine.connect() as connection:  # the seeded ids, in the order seed() made them
                ids = list(connection.execute(select(submissions.c.id).order_by(submissions.c.receipt)).scalars())
        else:
            ids = seed(engine, args.cases)
            print(f"seeded {len(ids):,} cases in {time.perf_counter() - started:.1f} s")
        app = create_app(settings, broker=StubBroker())
        one = next(i for i in ids[:200])
        for staff_id in ("street-leader", "qjj-grid"):
            client = app.test_client()
            with engine.begin() as connection:
                cookie, _ = sessions.start(connection, staff_id, via="bench", hours=1)
            client.set_cookie("mq_staff", cookie)
            pages = {"list (first page)": "/staff/cases", "list (filtered, text)": "/staff/cases?status=received&q=压测",
                     "list (overdue)": "/staff/cases?overdue=true", "list (receipt)": "/staff/cases?q=B00000000016", "case page": f"/staff/cases/{one}",
                     "my tasks": "/staff/", "map": "/staff/map"}
            for name, path in pages.items():
                if args.only not in name:
                    continue
                if staff_id == "qjj-grid" and path.startswith("/staff/cases/"):
                    path = f"/staff/cases/{ids[2]}"  # ids[2] is in 千家街 (communities go round)
                p50, p95 = timed(client, path, args.requests)
                print(f"{staff_id:14} {name:24} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
