"""`minqing tallies --rebuild` replays the stored records a batch at a time and a period at a time, and
gives back exactly the tallies, case durations and their rollups the live path counted: on random histories, on SQLite
and PostgreSQL, whole, month by month, and for one period alone."""

import random
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from minqing.domain import workflow
from minqing.domain.tallies import increments_for
from minqing.store import base, changes, counts, recount
from minqing.store.engine import make_engine, upgrade
from minqing.testing.tallies import counted
from tests.casework import CONSULTATION, ENTERPRISE, HAZARD

START = datetime(2026, 5, 28, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture()
def clock(monkeypatch):
    clock = Clock(START)
    for module in (base, changes):
        monkeypatch.setattr(module, "now", clock)
    monkeypatch.setattr(counts, "now", clock)
    return clock


def live_history(engine, clock, cases=150, seed=1):
    """Cases of every kind stored over four months, moved at random through the workflow, some rated."""
    rng = random.Random(seed)
    forms = [("hazard", h) for h in HAZARD] + [("consultation", c) for c in CONSULTATION] + \
        [("enterprise", e) for e in ENTERPRISE]
    stored = []
    with engine.begin() as c:
        for n in range(cases):
            clock.at = START + timedelta(hours=n * 19)
            kind, data = rng.choice(forms)
            due = clock.at + timedelta(days=rng.choice((1, 3, 7))) if rng.random() < 0.8 else None
            envelope = {"id": str(uuid.uuid4()), "receipt": f"R{n:07d}", "kind": kind, "data": data,
                        "submitted_at": clock.at.isoformat()}
            row = changes.store_submission(c, envelope, due_at=due)
            # As the store_submission actor counts it (workers/actors.py).
            counts.apply_increments(c, row.id, "received", increments_for(row.kind, row.payload, row.submitted_at))
            stored.append(envelope)
        for step in range(cases * 3):
            clock.at = START + timedelta(hours=step * 7 + rng.randint(0, 6))
            case = rng.choice(stored)
            if case["submitted_at"] > clock.at.isoformat():
                continue
            row = changes.cases.submission(c, case["id"])
            if row.status == "resolved" and rng.random() < 0.4:
                changes.record_feedback(c, case["receipt"], rating=rng.randint(1, 5), fixed=rng.random() < 0.7,
                                        comment="")
                continue
            if rng.random() < 0.1:
                changes.record_step(c, case["id"], "note", actor="qjj-grid", note="看过了")
                continue
            action = rng.choice(workflow.ALLOWED[row.status])
            details = {}
            if action == "resolve" and row.kind == "consultation":
                details = {"beneficiaries": rng.randint(1, 9), "hours": rng.choice((0.5, 1, 2.25))}
            if action == "resolve" and row.kind == "enterprise":
                details = {"outcome": rng.choice(("solved", "explained"))}
            if action == "reject":
                details = {"reason": "invalid"}
            changes.transition(c, case["id"], action, actor="qjj-grid", details=details)
        clock.at = datetime.now(timezone.utc)
        counts.count_overdue_cases(c, clock.at)


def snapshot(engine):
    with engine.connect() as c:
        return (sorted(tuple(r) for r in counts.tally_rows(c)),
                sorted(tuple(r) for r in counts.duration_rows(c)))


def rebuild_month_by_month(store) -> int:
    """`minqing tallies --rebuild` as the command runs it: a transaction a month; how many months."""
    with store.connect() as c:
        months = recount.periods(c, None, None)
    for since, until in months:
        with store.begin() as c:
            counts.rebuild_tallies(c, since, until)
    return len(months)


def test_a_whole_rebuild_gives_back_the_live_tallies(store, clock):
    live_history(store, clock)
    live = counted(store)
    with store.begin() as c:
        assert counts.rebuild_tallies(c) == 150
    assert counted(store) == live


def test_a_rebuild_month_by_month_gives_back_the_live_tallies(store, clock):
    live_history(store, clock)
    live = counted(store)
    assert rebuild_month_by_month(store) >= 5
    assert counted(store) == live


def test_one_period_is_recounted_and_the_others_are_left_alone(store, clock):
    live_history(store, clock)
    live = snapshot(store)
    with store.begin() as c:
        # As if a bug had miscounted: July's numbers lost, August's doubled.
        c.execute(counts.tallies.delete().where(counts.tallies.c.day.between(date(2026, 7, 1), date(2026, 7, 31))))
        c.execute(counts.tallies.update().where(counts.tallies.c.day.between(date(2026, 8, 1), date(2026, 8, 31)))
                  .values(value=counts.tallies.c.value * 2))
    with store.begin() as c:
        counts.rebuild_tallies(c, date(2026, 7, 1), date(2026, 7, 31))
    tallies, durations = snapshot(store)
    assert [r for r in tallies if r[4].month != 8] == [r for r in live[0] if r[4].month != 8]
    assert [r for r in tallies if r[4].month == 8] != [r for r in live[0] if r[4].month == 8]
    assert durations == live[1]


def patrol_history(engine, rng):
    """Patrol findings over four months in rounds that cross month ends, resolved more than once, checked
    twice in a round: what decides whether a month's recount counts a round, a resolution or a check."""
    from minqing.store import bulk

    found = []
    for n in range(120):
        at = START + timedelta(hours=n * 23 + rng.randint(0, 5))
        data = {"community": "jiangling", "category": "fire_safety", "description": "消防通道被占用",
                "location": {"address": "江陵路1号"},
                "patrol": {"volunteer_id": "v1", "team": rng.choice(("东队", "西队")), "round": f"round-{n // 9}"}}
        steps, t = [], at
        for _ in range(rng.randint(0, 2)):
            t += timedelta(days=rng.randint(1, 20))
            steps.append({"status": "resolved", "action": "resolve", "at": t, "actor": "qjj-grid",
                          "details": {"rectified_on_site": rng.random() < 0.3}})
            for _ in range(rng.randint(0, 2)):
                t += timedelta(days=rng.randint(0, 15))
                steps.append({"status": "resolved", "action": workflow.CHECKED, "at": t, "actor": "volunteer:v2",
                              "details": {"check": rng.choice(("fixed", "not_fixed")), "team": "东队",
                                          "round": f"round-{rng.randint(0, 1)}"}})
        found.append({"envelope": {"id": str(uuid.uuid4()), "receipt": f"P{n:07d}", "kind": "hazard", "data": data,
                                   "submitted_at": at.isoformat()},
                      "due_at": None, "steps": steps, "status": steps[-1]["status"] if steps else "received",
                      "feedback": None, "assignees": ["qjj-grid"], "stored_at": at})
    with engine.begin() as c:
        bulk.store_cases(c, found, now=START + timedelta(days=200))


def team_counts(engine):
    from minqing.store import patrol_counts

    with engine.connect() as c:
        return sorted(tuple(r) for r in patrol_counts.patrol_rows(c))


def test_team_counts_month_by_month_are_those_of_a_whole_recount(store):
    patrol_history(store, random.Random(3))
    with store.begin() as c:
        counts.rebuild_tallies(c)
    whole = team_counts(store)
    assert {r[3] for r in whole} >= {"findings", "rounds", "rectified_later", "rectified_on_site", "checks_fixed"}
    rebuild_month_by_month(store)
    assert team_counts(store) == whole


def test_a_months_recount_mends_its_rollups_from_its_own_sums(store, clock):
    from minqing.store.tables import duration_buckets, duration_hours, tally_days, tally_months

    live_history(store, clock)
    live = counted(store)
    with store.begin() as c:
        # Rollups gone wrong in July (and a stray row): what a month's recount writes from its sums.
        c.execute(tally_months.update().where(tally_months.c.month == "2026-07").values(value=tally_months.c.value + 1))
        c.execute(tally_months.insert().values(metric="received", kind="hazard", community="nowhere",
                                               category="fire_safety", month="2026-07", value=5))
        c.execute(tally_days.delete().where(tally_days.c.day.between(date(2026, 7, 1), date(2026, 7, 15))))
        c.execute(duration_buckets.delete().where(duration_buckets.c.month == "2026-07"))
        c.execute(duration_hours.update().where(duration_hours.c.month == "2026-07").values(count=7))
    wrong = counted(store)[2]
    assert all(wrong[name] != live[2][name] for name in wrong)
    with store.begin() as c:
        counts.rebuild_tallies(c, date(2026, 7, 1), date(2026, 7, 31))
    assert counted(store) == live


def test_a_patrol_round_across_a_month_end_is_counted_once_on_its_first_findings_day(store, clock):
    # Rounds of three findings a day apart, the first ones on a month's last days: a month's recount sees
    # only its own findings of such a round, and must leave the round to the month of its first one.
    with store.begin() as c:
        for n, day in enumerate((date(2026, 5, 30), date(2026, 6, 29), date(2026, 7, 31))):
            for k in range(3):
                clock.at = datetime.combine(day + timedelta(days=k), datetime.min.time(), timezone.utc) \
                    + timedelta(hours=2)
                data = {"community": "jiangling", "category": "fire_safety", "description": "消防通道被占用",
                        "location": {"address": "江陵路1号"},
                        "patrol": {"volunteer_id": "v1", "team": "东队", "round": f"round-{n}"}}
                row = changes.store_submission(c, {
                    "id": str(uuid.uuid4()), "receipt": f"P{n}{k:06d}", "kind": "hazard", "data": data,
                    "submitted_at": clock.at.isoformat()}, due_at=None)
                counts.count_submission(c, row)
    live = counted(store)
    rounds = [r for r in snapshot(store)[0] if r[0] == "patrol_rounds"]
    assert [(r[4], r[5]) for r in rounds] == [(date(2026, 5, 30), 1), (date(2026, 6, 29), 1), (date(2026, 7, 31), 1)]
    rebuild_month_by_month(store)
    assert counted(store) == live
    with store.begin() as c:
        counts.rebuild_tallies(c)
    assert counted(store) == live
