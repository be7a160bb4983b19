"""A case's deadline is the directory's SLA, fixed when the case is stored, and every view reads it: the
overdue filter, the on-time count, the export and the rebuilt tallies."""

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from minqing.directory import Directory, default_directory_path, load_directory
from tests.casework import CONSULTATION, HAZARD, seed, token_for
from minqing.store import base, changes, counts
from minqing.domain.deadlines import case_due_at
from minqing.store.tables import outbox
from minqing.domain.tallies import OFFICE_TZ, derived

LIGHTING = HAZARD[3]  # 首义 · lighting · low
ONE_HOUR_FOR_LIGHTING = '\n[[sla]]\nkind = "hazard"\ncategory = "lighting"\nhours = 1\n'


@pytest.fixture()
def base_env(base_env, tmp_path):
    """The demo street, with one more limit: a broken street light is due within an hour."""
    path = tmp_path / "directory.toml"
    path.write_text(default_directory_path().read_text() + ONE_HOUR_FOR_LIGHTING)
    return {**base_env, "MINQING_DIRECTORY": str(path)}


@pytest.fixture()
def leader(engine):
    return token_for(engine, "street-leader")


def hours_ago(n: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=n)


def test_the_deadline_comes_from_the_directory_else_the_defaults():
    directory = load_directory(default_directory_path())
    at = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)  # a Tuesday
    assert case_due_at(directory, "hazard", HAZARD[0], at) == at + timedelta(days=1)  # [[sla]] high: 1 day
    assert case_due_at(directory, "hazard", HAZARD[1], at) == at + timedelta(hours=2)  # default: urgent 2 h
    assert case_due_at(directory, "hazard", LIGHTING, at) == at + timedelta(days=7)  # default: 7 days
    assert case_due_at(directory, "consultation", CONSULTATION[0], at) is None  # a logged session: nobody acts
    assert case_due_at(directory, "hazard", LIGHTING, at, override_seconds=5) == at + timedelta(seconds=5)
    with_entry = Directory.from_mapping(default_directory_path().read_text() + ONE_HOUR_FOR_LIGHTING)
    assert case_due_at(with_entry, "hazard", LIGHTING, at) == at + timedelta(hours=1)


def test_working_days_skip_the_weekend_for_a_stored_case(client, runtime, stub_worker, settings, leader):
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=OFFICE_TZ)
    [request] = seed(runtime, settings, ("consultation", CONSULTATION[1]), submitted_at=friday_evening)
    case = client.get(f"/api/v1/cases/{request['id']}", headers=leader).json
    assert datetime.fromisoformat(case["due_at"]) == datetime(2026, 11, 25, 18, 0, tzinfo=OFFICE_TZ)  # Wed
    assert case["overdue"] is (datetime.now(timezone.utc) > datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))


def test_an_sla_entry_decides_what_the_case_list_calls_overdue(client, runtime, stub_worker, settings, leader):
    [light] = seed(runtime, settings, ("hazard", LIGHTING), submitted_at=hours_ago(2))
    [other] = seed(runtime, settings, ("hazard", HAZARD[2]), submitted_at=hours_ago(2))  # parking: 7 days
    [session] = seed(runtime, settings, ("consultation", CONSULTATION[0]), submitted_at=hours_ago(24 * 30))
    overdue = client.get("/api/v1/cases?overdue=true", headers=leader).json["items"]
    assert [c["id"] for c in overdue] == [light["id"]] and overdue[0]["overdue"] is True
    on_time = {c["id"]: c for c in client.get("/api/v1/cases?overdue=false", headers=leader).json["items"]}
    assert set(on_time) == {other["id"], session["id"]}
    assert on_time[session["id"]]["due_at"] is None


def test_an_sla_entry_decides_the_on_time_rate_and_a_rebuild_agrees(runtime, stub_worker, settings, engine):
    [light] = seed(runtime, settings, ("hazard", LIGHTING), submitted_at=hours_ago(3))
    [other] = seed(runtime, settings, ("hazard", HAZARD[2]), submitted_at=hours_ago(3))
    with engine.begin() as c:
        for case in (light, other):
            changes.transition(c, case["id"], "resolve", actor="street-leader")
            changes.transition(c, case["id"], "close", actor="street-leader")
    hazard = hazard_totals(engine)
    assert (hazard["closed_on_time"], hazard["closed_late"], hazard["overdue"]) == (1, 1, 1)
    assert derived(hazard)["on_time_rate"] == 0.5
    with engine.begin() as c:
        before = sorted(tuple(r) for r in counts.tally_rows(c))
        counts.rebuild_tallies(c)
        assert sorted(tuple(r) for r in counts.tally_rows(c)) == before


def test_the_sweep_counts_a_case_past_its_directory_deadline(runtime, stub_worker, settings, engine):
    seed(runtime, settings, ("hazard", LIGHTING), ("hazard", HAZARD[2]), submitted_at=hours_ago(2))
    with engine.begin() as c:
        assert counts.count_overdue_cases(c, base.now()) == 1
    assert hazard_totals(engine)["overdue"] == 1


def test_the_export_shows_the_deadline_and_overdue_from_the_directory(client, runtime, stub_worker, settings, leader):
    [light] = seed(runtime, settings, ("hazard", LIGHTING), submitted_at=hours_ago(2))
    [other] = seed(runtime, settings, ("hazard", HAZARD[2]), submitted_at=hours_ago(2))
    text = client.get("/api/v1/exports/cases.csv", headers=leader).get_data(as_text=True)
    header, *rows = csv.reader(io.StringIO(text[1:]))
    by_receipt = {row[0]: dict(zip(header, row)) for row in rows}
    assert by_receipt[light["receipt"]]["超期 overdue"] == "yes"
    assert by_receipt[other["receipt"]]["超期 overdue"] == "no"
    due = datetime.fromisoformat(by_receipt[light["receipt"]]["期限 due_at"])
    assert abs(due - (datetime.fromisoformat(light["submitted_at"]) + timedelta(hours=1))) < timedelta(seconds=1)


def test_an_sla_check_that_comes_before_the_deadline_escalates_nothing(runtime, stub_worker, settings, engine):
    [early] = seed(runtime, settings, ("hazard", LIGHTING))  # due in an hour
    [late] = seed(runtime, settings, ("hazard", LIGHTING), submitted_at=hours_ago(2))
    check_sla = runtime.broker.actors["check_sla"].fn
    check_sla(early["id"], 1)  # as a broker that caps delays (SQS: 15 minutes) would deliver it
    check_sla(late["id"], 1)
    with engine.connect() as c:
        escalated = {r.submission_id for r in c.execute(sa.select(outbox.c.submission_id).where(
            outbox.c.event == "escalated-1"))}
    assert escalated == {late["id"]}


def hazard_totals(engine) -> dict:
    found: dict = {}
    with engine.connect() as c:
        for r in counts.tally_rows(c):
            if r.kind == "hazard":
                found[r.metric] = found.get(r.metric, 0) + r.value
    return found
