"""Benchmark: the reads at city-sized data. Seeds N cases (bulk path, minqing/store/bulk.py: what the store
path writes) in the shape the workers store them, three years of realistic Chinese text, statuses, history
and feedback; then prints p50/p95 of each read through the app (Flask's WSGI stack in this process, no
socket), the rebuild's time and peak memory (`minqing tallies --rebuild` as a subprocess), the CSV export's
rows/s, and EXPLAIN of a query over its budget.

    python bench/data_volume.py --sizes 10000,100000                 # PostgreSQL and the embedded default
    python bench/data_volume.py --backends postgresql --sizes 1000000
    python bench/data_volume.py --backends postgresql --sizes 100000 --keep      # prints the kept database's URL
    python bench/data_volume.py --database-url URL --sizes 100000 --only tallies,dashboard  # seeds only what is missing
Prints figures, asserts nothing. PostgreSQL runs in a scratch database, dropped at the end.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import scratch_database  # noqa: E402
from minqing.store import bulk, cases, tokens  # noqa: E402
from minqing.store.engine import make_engine, upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

COMMUNITIES = ["jiangling", "wunancun", "qianjiajie", "shouyi", "ziyang", "yuemachang", "changhu", "xiaochaohu"]
HAZARDS = ["fire_safety", "structure", "ev_charging", "sanitation", "lighting", "facility", "traffic_parking", "other"]
SERVICES = ["medical_clinic", "legal_advice", "mediation", "elderly_meals", "home_cleaning", "elder_care"]
ENTERPRISE = ["workspace", "tax", "licensing", "market_entry", "hiring", "subsidy", "financing"]
PLACES = ["省一保小区", "水果湖", "首义路", "紫阳路", "阅马场", "长湖", "小朝湖", "武南村", "千家街", "江陵路", "火车站", "中山路"]
THINGS = ["围墙出现裂缝", "楼道堆放杂物", "电动车在楼道充电", "路灯不亮", "井盖丢失", "下水道堵塞", "消防通道被占用",
          "墙皮脱落", "树枝折断压到电线", "垃圾桶满了没人清", "路面塌陷", "窗户玻璃破裂", "water pipe burst", "暖气不热"]
TAILS = ["，请尽快处理。", "，有安全隐患，旁边是小孩上学的路。", "，已经好几天了。", "，居民反映强烈。", "。"]
YEARS = 3
NOW = datetime.now(timezone.utc)


def text_of(rng):
    return rng.choice(PLACES) + f"{rng.randint(1, 40)}栋" + rng.choice(THINGS) + rng.choice(TAILS)


def case_of(rng, n: int) -> dict:
    at = NOW - timedelta(seconds=rng.uniform(0, YEARS * 365 * 86400))
    community = rng.choice(COMMUNITIES)
    roll = rng.random()
    if roll < 0.6:
        kind = "hazard"
        data = {"community": community, "category": rng.choice(HAZARDS), "severity": rng.choice(("low", "medium", "high")),
                "description": text_of(rng),
                "location": {"address": rng.choice(PLACES) + f"{rng.randint(1, 200)}号", "spot": f"s-{rng.randint(1, 300)}",
                             "lat": round(30.53 + rng.uniform(0, 0.03), 5), "lon": round(114.29 + rng.uniform(0, 0.03), 5),
                             "crs": "wgs84"},
                "contact": {"name": "王阿姨", "phone": "13871234567"}}
    elif roll < 0.85:
        kind = "consultation"
        data = {"mode": "request", "service": rng.choice(SERVICES), "community": community, "description": text_of(rng),
                "contact": {"name": "张先生", "phone": "13607101234"}}
        if rng.random() < 0.4:
            held = at - timedelta(days=rng.randint(0, 5))
            data = {"mode": "report", "service": data["service"], "community": community, "provider": "社区卫生服务中心",
                    "held_at": held.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="seconds"),
                    "beneficiaries": rng.randint(1, 60), "hours": rng.choice((1, 1.5, 2, 3)), "description": text_of(rng)}
    else:
        kind = "enterprise"
        data = {"enterprise": {"name": rng.choice(PLACES) + "科技有限公司", "uscc": "91420106MA49A1B2C0"},
                "contact": {"name": "刘经理", "phone": "13545012345"}, "category": rng.choice(ENTERPRISE),
                "urgency": rng.choice(("normal", "urgent")), "description": text_of(rng)}
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    envelope = {"id": sid, "receipt": f"MQ{n:010d}", "kind": kind, "data": data, "lang": "zh-CN",
                "submitted_at": at.isoformat()}
    steps, status, given = [], "received", None
    logged = kind == "consultation" and data["mode"] == "report"
    due = None if logged else at + timedelta(days=rng.choice((1, 3, 7)))
    t = at
    if not logged and rng.random() < 0.9:
        for action, next_status, hours in (("acknowledge", "acknowledged", 4), ("start", "in_progress", 12),
                                           ("resolve", "resolved", 72)):
            t = t + timedelta(hours=rng.expovariate(1 / hours))
            if t > NOW:
                break
            details = {"outcome": "solved"} if (action == "resolve" and kind == "enterprise") else None
            steps.append({"status": next_status, "action": action, "at": t, "actor": "qjj-grid", "details": details})
            status = next_status
        if status == "resolved" and rng.random() < 0.6:
            t = t + timedelta(hours=rng.expovariate(1 / 24))
            if t < NOW:
                given = {"rating": rng.randint(2, 5), "fixed": 1, "comment": "", "at": t}
                steps.append({"status": "closed", "action": "close", "at": t, "actor": "resident",
                              "details": {"feedback": "fixed"}})
                status = "closed"
    return {"envelope": envelope, "due_at": due, "steps": steps, "status": status, "feedback": given,
            "assignees": ["qjj-grid"], "stored_at": at}


def seed(engine, start: int, stop: int, batch: int = 5000) -> float:
    began = time.perf_counter()
    rng = random.Random(start)
    for first in range(start, stop, batch):
        found = [case_of(rng, n) for n in range(first, min(stop, first + batch))]
        with engine.begin() as c:
            bulk.store_cases(c, found, now=NOW)
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def timed(call, times: int) -> tuple[float, float]:
    found = []
    for _ in range(times):
        began = time.perf_counter()
        call()
        found.append((time.perf_counter() - began) * 1000)
    found.sort()
    return statistics.median(found), found[min(len(found) - 1, int(len(found) * 0.95))]


def peak_rss_reset() -> None:
    """Start counting this process's peak memory (VmHWM) afresh (Linux: 5 into clear_refs)."""
    with open("/proc/self/clear_refs", "w") as file:
        file.write("5")


def peak_rss_mb() -> float:
    with open("/proc/self/status") as file:
        return next(int(line.split()[1]) for line in file if line.startswith("VmHWM")) / 1024


def measure(env: dict, engine, size: int, times: int, parts=("reads", "export"), only: str = "") -> list[tuple[str, str]]:
    from dramatiq.brokers.stub import StubBroker

    from functions.app import create_app
    from functions.read_cache import ReadCache
    from minqing.settings import load_settings

    settings = load_settings(env)
    app = create_app(settings, broker=StubBroker())
    gc.freeze()  # as functions/wsgi.py does in each web process
    client = app.test_client()
    with engine.begin() as c:
        auth = {"Authorization": "Bearer " + tokens.create(c, "street-leader").token}
        hazards = c.execute(select(cases.submissions.c.id).where(cases.submissions.c.kind == "hazard")
                            .order_by(func.random()).limit(times)).scalars().all()
        oldest = c.execute(select(cases.submissions.c.id).where(cases.submissions.c.kind == "hazard")
                           .order_by(cases.submissions.c.submitted_at).limit(1)).scalar()
        receipts = c.execute(select(cases.submissions.c.receipt).order_by(func.random()).limit(times)).scalars().all()
        deep = {}
        for depth in (size // 2, size - 10):
            row = c.execute(select(cases.submissions.c.submitted_at, cases.submissions.c.id)
                            .order_by(cases.submissions.c.submitted_at.desc(), cases.submissions.c.id.desc())
                            .offset(depth).limit(1)).one()
            deep[depth] = cases._encode(row.submitted_at, row.id)

    def get(path, **kw):
        response = client.get(path, **kw)
        assert response.status_code == 200, (path, response.status_code, response.data[:300])
        return response

    def cold(path):
        def call():
            app.extensions["minqing.read_cache"] = ReadCache()  # no reuse: what the first hit costs
            get(path)
        return call

    picks = iter(range(10**9))
    calls = [] if "reads" not in parts else [
        ("GET /api/v1/tallies (cold: computed)", lambda: timed(cold("/api/v1/tallies"), times)),
        ("GET /api/v1/tallies (kept answer)", lambda: timed(lambda: get("/api/v1/tallies"), times)),
        ("GET /api/v1/tallies?from=<mid-month>&to=<mid-month> (cold)", lambda: timed(cold(
            f"/api/v1/tallies?from={(NOW - timedelta(days=300)).date()}&to={(NOW - timedelta(days=40)).date()}"), times)),
        ("GET /api/v1/tallies?from=3 years ago (cold)",
         lambda: timed(cold(f"/api/v1/tallies?from={(NOW - timedelta(days=3 * 366)).date()}"), max(3, times // 5))),
        ("GET /dashboard (cold)", lambda: timed(cold("/dashboard"), times)),
        # The public problem list residents reach from a poster, and its map: the newest first.
        ("GET /problems (public list)", lambda: timed(lambda: get("/problems"), times)),
        ("GET /problems?c=<community>", lambda: timed(lambda: get(f"/problems?c={COMMUNITIES[0]}"), times)),
        ("GET /problems?s=received", lambda: timed(lambda: get("/problems?s=received"), times)),
        ("GET /problems?p=50 (page 51)", lambda: timed(lambda: get("/problems?p=50"), times)),
        ("GET /problems/map", lambda: timed(lambda: get("/problems/map"), times)),
        ("GET /api/v1/cases/<id>", lambda: timed(lambda: get(f"/api/v1/cases/{hazards[next(picks) % len(hazards)]}",
                                                    headers=auth), times)),
        ("GET /api/v1/cases/<oldest hazard>", lambda: timed(lambda: get(f"/api/v1/cases/{oldest}", headers=auth), times)),
        ("GET /api/v1/cases?q=<receipt>", lambda: timed(lambda: get(f"/api/v1/cases?q={receipts[next(picks) % len(receipts)]}",
                                                           headers=auth), times)),
        ("GET /api/v1/cases?q=围墙 (two characters)", lambda: timed(lambda: get("/api/v1/cases?q=围墙", headers=auth), times)),
        ("GET /api/v1/cases?q=省一保小区17栋 (rare)", lambda: timed(lambda: get("/api/v1/cases?q=省一保小区17栋", headers=auth), times)),
        ("GET /api/v1/cases (default list)", lambda: timed(lambda: get("/api/v1/cases", headers=auth), times)),
    ]
    for depth, cursor in deep.items() if "reads" in parts else ():
        calls.append((f"cursor {depth:,} deep", lambda cursor=cursor: timed(
            lambda: get(f"/api/v1/cases?cursor={cursor}", headers=auth), times)))
    peak_rss_reset()
    shown = [(name, "p50 {:8.1f} ms  p95 {:8.1f} ms".format(*call())) for name, call in calls
             if not only or any(part in name for part in only.split(","))]
    if shown:
        # The web process's own peak over every read above (the bound: 200 MB whatever the history).
        shown.append(("peak memory of this process over the reads", f"{peak_rss_mb():.0f} MB"))
    if "export" in parts:
        for name, path in (("CSV", "cases.csv"), ("XLSX", "cases.xlsx")):
            peak_rss_reset()
            before = peak_rss_mb()
            began = time.perf_counter()
            sent = 0
            for chunk in client.get(f"/api/v1/exports/{path}", headers=auth).response:
                sent += len(chunk)
            seconds = time.perf_counter() - began
            shown.append((f"{name} export of everything",
                          f"{size / seconds:,.0f} rows/s ({size:,} rows, {sent / 1e6:.1f} MB, {seconds:.1f} s, "
                          f"peak memory +{peak_rss_mb() - before:.0f} MB over {before:.0f} MB)"))
    if "reads" in parts and not only and engine.dialect.name == "postgresql":
        with engine.connect() as c:
            plan = c.execute(text("EXPLAIN ANALYZE SELECT id FROM submissions WHERE receipt = 'X' OR "
                                  "(string_to_array(search_grams, ' ') @> CAST(:t AS text[]) AND "
                                  "payload->>'description' ILIKE '%围墙%') ORDER BY submitted_at DESC, id DESC LIMIT 51"),
                             {"t": ["ge59bb4e5a299"]}).scalars().all()
        shown.append(("EXPLAIN q=围墙 (PostgreSQL)", "\n      " + "\n      ".join(plan)))
    return shown


def rebuild(env: dict) -> str:
    """`minqing tallies --rebuild` as an operator runs it; its peak memory from GNU time."""
    began = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-m", "minqing", "tallies",
                           "--rebuild"], env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    lines = done.stderr.strip().splitlines()
    peak = next((int(line.split()[1]) for line in lines if line.startswith("peak-kb")), 0)
    said = next((line for line in lines if line.startswith("rebuilt")), "")
    if done.returncode != 0:
        return f"failed: {done.stderr[-500:]}"
    return f"{seconds:.1f} s, {peak / 1024:.0f} MB peak ({said})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="postgresql,embedded")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--times", type=int, default=30)
    parser.add_argument("--parts", default="reads,export,rebuild",
                        help="what to measure: reads, export (CSV and XLSX), rebuild, comma-separated")
    parser.add_argument("--only", default="",
                        help="time only the reads whose name holds one of these (comma-separated); "
                             "implies --parts reads unless --parts is given")
    parser.add_argument("--keep", action="store_true", help="keep the seeded PostgreSQL database; print its URL")
    parser.add_argument("--database-url", "--database", dest="database_url", default="",
                        help="a database seeded by an earlier --keep run: seeds only what is missing")
    args = parser.parse_args()
    if args.database_url:
        args.backends = "postgresql" if args.database_url.startswith("postgres") else "embedded"
    if args.only and "--parts" not in sys.argv:
        args.parts = "reads"
    parts = set(args.parts.split(","))
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as data_dir:
            env = {"MINQING_DATA_DIR": data_dir, "MINQING_SECRET_KEY": "bench-" + "k" * 32,
                   "MINQING_QUEUE": "bench_" + uuid.uuid4().hex[:8], "MINQING_LOG_LEVEL": "WARNING",
                   "MINQING_RATE_LIMIT_PER_ADDRESS": "off", "MINQING_RATE_LIMIT_PER_SPOT": "off",
                   "PYTHONPATH": str(ROOT)}
            cleanup = lambda: None  # noqa: E731
            if args.database_url:
                env["MINQING_DATABASE_URL"] = args.database_url
            elif backend == "postgresql":
                env["MINQING_DATABASE_URL"], cleanup = scratch_database()
                if args.keep:
                    print(f"kept: --database-url {env['MINQING_DATABASE_URL']}", flush=True)
                    cleanup = lambda: None
            url = env.get("MINQING_DATABASE_URL") or f"sqlite:///{data_dir}/minqing.db"
            engine = make_engine(url)
            upgrade(engine)
            try:
                with engine.connect() as c:
                    seeded = c.execute(select(func.count()).select_from(cases.submissions)).scalar()
                for size in sorted(int(s) for s in args.sizes.split(",")):
                    took = seed(engine, seeded, size) if size > seeded else 0.0
                    print(f"\n== {backend}, {size:,} cases (seeded {max(0, size - seeded):,} in {took:.0f} s, "
                          f"{max(0, size - seeded) / max(took, 1e-9):,.0f}/s)", flush=True)
                    seeded = max(seeded, size)
                    for name, figure in measure(env, engine, size, args.times, parts, args.only):
                        print(f"  {name:<44} {figure}", flush=True)
                    if "rebuild" in parts:
                        print(f"  {'minqing tallies --rebuild':<44} {rebuild(env)}", flush=True)
            finally:
                engine.dispose()
                cleanup()


if __name__ == "__main__":
    main()
