"""Migration 0006 gives cases stored before it a deadline from the default limits, on SQLite and PostgreSQL."""

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from minqing.store.engine import current_revision, make_engine, upgrade
from minqing.store.tables import submissions

TUESDAY = datetime(2026, 11, 24, 1, 0)  # naive UTC, as the columns keep it
FRIDAY_EVENING = datetime(2026, 11, 20, 10, 0)  # 18:00 in the office's time zone
OLD_CASES = {
    "urgent-hazard": ("hazard", "urgent", {}, TUESDAY, TUESDAY + timedelta(hours=2)),
    "high-hazard": ("hazard", "high", {}, TUESDAY, TUESDAY + timedelta(days=7)),
    "request": ("consultation", "", {"mode": "request"}, FRIDAY_EVENING, datetime(2026, 11, 25, 10, 0)),
    "logged-session": ("consultation", "", {"mode": "report"}, TUESDAY, None),
    "enterprise": ("enterprise", "urgent", {}, TUESDAY, TUESDAY + timedelta(days=7)),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("postgres_url")


def test_cases_stored_before_0006_get_the_default_deadline(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0005")
        with engine.begin() as c:
            for n, (case_id, (kind, priority, payload, at, _)) in enumerate(OLD_CASES.items()):
                c.execute(sa.text(
                    "INSERT INTO submissions (id, receipt, kind, community, category, priority, status, payload, "
                    "body_hash, lang, submitted_at, stored_at, updated_at) VALUES (:id, :receipt, :kind, '', 'other', "
                    ":priority, 'received', :payload, 'h', 'zh-CN', :at, :at, :at)"),
                    dict(id=case_id, receipt=f"R{n}", kind=kind, priority=priority, at=at,
                         payload=json.dumps(payload)))
        upgrade(engine, "0006")
        assert current_revision(engine) == "0006"
        with engine.connect() as c:
            found = dict(c.execute(sa.select(submissions.c.id, submissions.c.due_at)).all())
        expected = {case_id: due and due.replace(tzinfo=timezone.utc) for case_id, (*_, due) in OLD_CASES.items()}
        assert found == expected
    finally:
        engine.dispose()


def test_0008_adds_the_consoles_sessions_and_links(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0007")
        upgrade(engine, "0008")
        assert current_revision(engine) == "0008"
        inspector = sa.inspect(engine)
        assert {"staff_sessions", "sign_in_links"} <= set(inspector.get_table_names())
        from minqing.store import sessions

        with engine.begin() as c:
            made = sessions.create_link(c, "qjj-grid")
        with engine.begin() as c:
            assert sessions.redeem_link(c, made.token) == "qjj-grid"
            assert sessions.redeem_link(c, made.token) is None
    finally:
        engine.dispose()


def test_0013_fills_the_rollups_from_the_tallies_and_durations_stored_before(database_url):
    from datetime import date

    from minqing.store import counts
    from minqing.testing.tallies import rollup_rows

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0012")
        with engine.begin() as c:
            for day, value in (("2026-03-01", 2), ("2026-03-31", 1.5), ("2026-04-02", 1)):
                c.execute(sa.text("INSERT INTO tallies (metric, kind, community, category, day, value) VALUES "
                                  "('hours', 'consultation', 'jiangling', 'legal_advice', :day, :value)"),
                          {"day": day, "value": value})
            for n, seconds in enumerate((3600.0, 7217.0, 10000.0, 90000.0)):
                c.execute(sa.text("INSERT INTO case_durations (submission_id, event, kind, community, category, day, "
                                  "seconds) VALUES (:id, 'resolved', 'hazard', '', 'fire_safety', '2026-03-10', :s)"),
                          {"id": f"c{n}", "s": seconds})
        upgrade(engine, "0013")
        assert current_revision(engine) == "0013"
        with engine.connect() as c:
            found = rollup_rows(c)
            summary = counts.summary(c, since=date(2026, 1, 1))
        assert found["tally_months"] == [("2026-03", "hours", "consultation", "jiangling", "legal_advice", 3.5),
                                         ("2026-04", "hours", "consultation", "jiangling", "legal_advice", 1.0)]
        assert [row[0].isoformat() for row in found["tally_days"]] == ["2026-03-01", "2026-03-31", "2026-04-02"]
        # Buckets of 36 s: 100, 200 (7217 s is 200.47), 278, 2500; the median is the mean of the middle two.
        assert [row[2] for row in found["duration_buckets"]] == [100, 200, 278, 2500]
        assert summary["by_month"]["hazard"]["2026-03"]["median_hours_to_resolve"] == round(239 * 36 / 3600, 2)
    finally:
        engine.dispose()


def test_0015_indexes_the_open_cases_by_deadline(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0013")
        upgrade(engine, "0015")
        assert current_revision(engine) == "0015"
        found = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("submissions")}
        assert found["ix_submissions_open_due"] == ["due_at", "submitted_at", "community", "status"]
        with engine.connect() as c:
            if engine.dialect.name == "postgresql":
                made = c.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_submissions_open_due'"))
            else:
                made = c.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_submissions_open_due'"))
            assert "'reopened'" in made.scalar()  # partial: the open statuses only
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stored_json_reads_back_as_json_wrote_it_even_what_orjson_refuses(request, tmp_path, backend):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path}/j.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    table = sa.Table("j", sa.MetaData(), sa.Column("v", sa.JSON))
    table.create(engine)
    values = [{"text": "围墙\u2028开裂 \"quoted\"", "n": 3, "x": 2.5, "none": None},
              {"deep": [[{"a": [1, {"b": "c"}]}]]}]
    if backend == "sqlite":
        values.append({"beyond": float("inf")})  # json writes Infinity, which orjson refuses (PostgreSQL too)
    with engine.begin() as c:
        c.execute(table.insert(), [{"v": v} for v in values])
    with engine.connect() as c:
        assert c.execute(sa.select(table.c.v)).scalars().all() == values
    engine.dispose()


def test_0016_indexes_the_buckets_by_month_and_the_durations_by_day_with_what_is_summed(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0015")
        upgrade(engine, "0016")
        assert current_revision(engine) == "0016"
        buckets = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("duration_buckets")}
        assert buckets["ix_duration_buckets_month"] == ["month", "kind", "event", "bucket"]
        durations = {i["name"]: i["column_names"] for i in sa.inspect(engine).get_indexes("case_durations")}
        assert durations == {"ix_case_durations_day_buckets": ["day", "kind", "event", "seconds"]}
        upgrade(engine, "head")
    finally:
        engine.dispose()


def plan_of(engine, query) -> str:
    """The database's plan of `query`, as text; on PostgreSQL with sequential scans off, since the tables
    here are empty and a scan would always win: what is shown is that the index fits."""
    with engine.connect() as c:
        sql = str(query.compile(c, compile_kwargs={"literal_binds": True, "render_postcompile": True}))
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET enable_seqscan = off")
            return "\n".join(c.execute(sa.text("EXPLAIN " + sql)).scalars())
        return "\n".join(str(row[-1]) for row in c.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))


def test_0016_finds_a_months_logged_sessions_through_the_held_at_index(database_url):
    from datetime import date

    from minqing.store import recount

    engine = make_engine(database_url)
    try:
        upgrade(engine, "head")
        query = recount.candidates(date(2026, 3, 1), date(2026, 3, 31), engine.dialect.name)
        plan = plan_of(engine, query)
        assert "ix_submissions_held_at" in plan, plan
    finally:
        engine.dispose()


def test_0017_finds_whether_a_round_began_before_a_period_through_the_round_index(database_url):
    from datetime import datetime, timezone

    from minqing.store import patrol_counts
    from minqing.store.tables import submissions

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0016")
        upgrade(engine, "0017")
        assert current_revision(engine) == "0017"
        held = patrol_counts.patrol_round(engine.dialect.name)
        query = sa.select(held).where(held.in_(["round-1", "round-2"]),
                                      submissions.c.submitted_at < datetime(2026, 3, 1, tzinfo=timezone.utc))
        plan = plan_of(engine, query)
        assert "ix_submissions_patrol_round" in plan, plan
    finally:
        engine.dispose()


def test_0018_keeps_sqlites_rollups_in_key_order_with_their_rows_and_plans(database_url):
    from datetime import date

    from minqing.store import counts, rollups
    from minqing.store.tables import tally_months
    from minqing.testing.tallies import rollup_rows

    engine = make_engine(database_url)
    try:
        upgrade(engine, "0017")
        with engine.begin() as c:
            sums = {("hours", "consultation", "jiangling", "legal_advice", date(2026, 3, day)): day / 4
                    for day in (1, 2, 31)}
            rollups.add(c, sums, [dict(kind="hazard", event="resolved", day=date(2026, 3, 10), seconds=7217.0)])
        with engine.connect() as c:
            before, summary = rollup_rows(c), counts.summary(c, since=date(2026, 1, 1))
        upgrade(engine, "0018")
        with engine.connect() as c:
            assert rollup_rows(c) == before
            assert counts.summary(c, since=date(2026, 1, 1)) == summary
            if engine.dialect.name == "sqlite":
                made = dict(c.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
                for table in ("tally_months", "tally_days", "duration_hours"):
                    assert made[table].rstrip().endswith("WITHOUT ROWID"), made[table]
                # Left with its rowid: the planner then reads a month's buckets by the month index.
                assert "WITHOUT ROWID" not in made["duration_buckets"]
                plan = plan_of(engine, sa.select(tally_months).where(tally_months.c.month >= "2026-01"))
                assert "PRIMARY KEY" in plan, plan
        upgrade(engine, "head")
    finally:
        engine.dispose()
