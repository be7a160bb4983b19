"""The tallies read for a period from the rollups (sums by month and day, durations counted by hour and by
hundredth of an hour; partial months at either end from the days) give exactly the figures the old way gave,
which read every row and summed in Python, with each duration first rounded to the hundredth of an hour the
answer shows: random histories counted through the live path, on SQLite and PostgreSQL; and the rollups the
rebuild's refresh makes equal the ones the live path made."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from minqing.domain.tallies import (
    BUCKET_SECONDS,
    Increment,
    bucket_of,
    derived,
    summarise,
    summarise_months,
)
from minqing.outcomes import WANTED, months_of_year, outcomes
from minqing.store import counts, rollups
from minqing.store.engine import make_engine, upgrade
from minqing.store.tables import (
    case_durations,
    duration_buckets,
    duration_hours,
    tallies,
    tally_days,
    tally_events,
    tally_months,
)

KINDS = ("hazard", "consultation", "enterprise")
METRICS = ("received", "resolved", "acknowledged", "closed", "closed_on_time", "overdue", "rated", "rating_sum",
           "satisfied", "sessions", "beneficiaries", "hours", "solved", "urged")  # "urged": a metric added later
START = date(2025, 11, 20)

tally_row = st.fixed_dictionaries(dict(
    metric=st.sampled_from(METRICS), kind=st.sampled_from(KINDS),
    community=st.sampled_from(("", "qianjiajie", "shuiyun", "社区甲")), category=st.sampled_from(("road", "fire", "法律")),
    day=st.integers(0, 500).map(lambda n: START + timedelta(days=n)),
    # Whole counts and the hours residents are given (at most two decimals).
    value=st.one_of(st.integers(1, 50), st.integers(1, 4000).map(lambda n: n / 100))))
duration_row = st.fixed_dictionaries(dict(
    event=st.sampled_from(("acknowledged", "resolved")), kind=st.sampled_from(KINDS),
    day=st.integers(0, 500).map(lambda n: START + timedelta(days=n)),
    seconds=st.one_of(st.integers(0, 10**7).map(float), st.floats(0, 1e7, allow_nan=False))))
history = st.tuples(st.lists(tally_row, max_size=60, unique_by=lambda r: (r["metric"], r["kind"], r["community"],
                                                                          r["category"], r["day"])),
                    st.lists(duration_row, max_size=40))
period = st.sampled_from(((None, None), (date(2026, 1, 1), None), (date(2026, 1, 1), date(2026, 12, 31)),
                          (date(2026, 2, 14), date(2026, 3, 3)), (date(2026, 3, 5), date(2026, 3, 9)),
                          (date(2025, 12, 1), date(2026, 2, 28)), (date(2026, 1, 15), None), (None, date(2026, 5, 20))))
ROLLUPS = (tally_months, tally_days, duration_hours, duration_buckets)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _load(engine, rows, durations):
    """Count the rows as the live path does: each an event of its own (apply_increments), each duration
    stored and added to the rollups as count_transition does."""
    with engine.begin() as c:
        for table in (tallies, case_durations, tally_events, *ROLLUPS):
            c.execute(delete(table))
        for n, row in enumerate(rows):
            counts.apply_increments(c, f"t{n}", "received", [Increment(**row)])
        stored = [dict(d, submission_id=f"s{i}", community="", category="road") for i, d in enumerate(durations)]
        if stored:
            c.execute(insert(case_durations), stored)
            for duration in stored:
                rollups.add(c, {}, [duration])


def _rollups(engine):
    with engine.connect() as c:
        # Sums of hundredths in another order may differ in their last bit: compared to a millionth.
        return {table.name: sorted((*row[:-1], round(row[-1], 6)) for row in c.execute(select(table)))
                for table in ROLLUPS}


def _rounded(durations):
    """The durations as the answer counts them: each rounded to its hundredth of an hour."""
    return [SimpleNamespace(kind=d.kind, event=d.event, day=d.day, seconds=bucket_of(d.seconds) * BUCKET_SECONDS)
            for d in durations]


def _old_api(c, since, until):
    rows = counts.tally_rows(c, since=since, until=until)
    durations = _rounded(counts.duration_rows(c, since=since, until=until))
    body = summarise(rows)
    body["rates"] = {kind: derived(metrics) for kind, metrics in body["totals"].items()}
    body["by_month"] = summarise_months(rows, durations)
    return body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history, period)
def test_the_period_summary_equals_the_row_by_row_one(store, drawn, bounds):
    _load(store, *drawn)
    since, until = bounds
    with store.connect() as c:
        old = _old_api(c, since, until)
        assert counts.summary(c, since=since, until=until) == old
        # As the public endpoint reads it: the medians on a connection of their own, in a thread.
        assert counts.summary(c, since=since, until=until, alongside=store) == old
    live = _rollups(store)
    with store.begin() as c:
        rollups.refresh(c, *bounds)
    assert _rollups(store) == live


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history)
def test_the_dashboard_figures_equal_the_row_by_row_ones(store, drawn):
    _load(store, *drawn)
    since, until = date(2026, 1, 1), date(2026, 12, 31)
    with store.connect() as c:
        old = outcomes(counts.tally_rows(c, since=since, until=until),
                       _rounded(counts.duration_rows(c, since=since, until=until)), months=months_of_year(2026))
        new = outcomes(counts.outcome_rows(c, WANTED, since=since, until=until), months=months_of_year(2026),
                       medians=counts.median_seconds(c, since=since, until=until, by_month=False))
    assert new == old


def test_the_public_tallies_cover_this_year_unless_asked_and_revalidate_for_nothing(client):
    first = client.get("/api/v1/tallies")
    assert first.status_code == 200 and first.json["from"] == f"{date.today().year}-01-01"
    assert first.headers["Cache-Control"] == "public, max-age=60" and first.headers["ETag"]
    again = client.get("/api/v1/tallies", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    asked = client.get("/api/v1/tallies?from=2020-01-01&to=2020-12-31").json
    assert (asked["from"], asked["to"], asked["totals"]) == ("2020-01-01", "2020-12-31", {})


FORM = {"community": "jiangling", "category": "lighting", "description": "路灯不亮", "location": {"address": "江零社区东门"}}


@pytest.mark.parametrize("backend_env", ["embedded", "redis+postgres"], indirect=True)
def test_a_new_report_shows_in_the_tallies_and_dashboard_and_changes_their_etags(live_server):
    from tests.conftest import wait_until

    before = live_server.get("/api/v1/tallies")
    page = live_server.get("/dashboard")
    assert page.status_code == 200 and page.headers["ETag"]
    assert live_server.get("/dashboard", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    assert live_server.post("/api/v1/hazard-reports", json=FORM).status_code == 202

    def counted():
        answer = live_server.get("/api/v1/tallies", headers={"If-None-Match": before.headers["ETag"]})
        return answer.status_code == 200 and answer.json()["totals"].get("hazard", {}).get("received") == 1 and answer
    after = wait_until(counted)
    assert after.headers["ETag"] != before.headers["ETag"]
    # An answer may be reused for a moment after a change (a multiple of what it cost to make), not longer.
    assert wait_until(lambda: live_server.get("/dashboard", headers={"If-None-Match": page.headers["ETag"]})
                      .status_code == 200, timeout=10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=8))
def test_a_days_sums_read_back_as_the_very_doubles_stored(store, values):
    # SQLite sends a day's values as text: written with 17 digits, not its JSON's 15, which can round
    # another way (0.30000000000000004 read as 0.3).
    day = date(2026, 3, 4)
    with store.begin() as c:
        c.execute(delete(tally_days))
        c.execute(insert(tally_days), [dict(day=day, metric=f"m{n}", kind="hazard", value=value)
                                       for n, value in enumerate(values)])
    with store.connect() as c:
        [(shown, kind, metrics, read)] = rollups.daily(c, day, day)
    assert (shown, kind) == ("2026-03-04", "hazard")
    assert dict(zip(metrics, read)) == {f"m{n}": value for n, value in enumerate(values)}
    assert all(type(v) is float or float(v).is_integer() for v in read)
