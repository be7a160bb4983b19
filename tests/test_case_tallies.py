"""The outcome list (效果清单) counts every workflow event once, whoever moves the case, and a rebuild
from the records gives the same numbers."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.casework import CONSULTATION, ENTERPRISE, HAZARD, seed
from minqing.store import base, cases, changes, counts
from minqing.domain.tallies import derived, summarise_months


@pytest.fixture()
def worked(runtime, stub_worker, settings, engine):
    """A hazard worked to the end and rated, a late one, a delivered service and a solved enterprise case."""
    long_ago = datetime.now(timezone.utc) - timedelta(days=10)
    [hazard] = seed(runtime, settings, ("hazard", HAZARD[0]))
    [late] = seed(runtime, settings, ("hazard", HAZARD[3]), submitted_at=long_ago)
    [service, enterprise] = seed(runtime, settings, ("consultation", CONSULTATION[1]), ("enterprise", ENTERPRISE[0]))
    with engine.begin() as c:
        for action in ("acknowledge", "start", "resolve"):
            changes.transition(c, hazard["id"], action, actor="qjj-grid")
        changes.record_feedback(c, hazard["receipt"], rating=5, fixed=True, comment="")
        changes.transition(c, late["id"], "resolve", actor="sy-grid")
        changes.transition(c, late["id"], "close", actor="sy-grid")
        changes.transition(c, service["id"], "resolve", actor="team-legal", details={"beneficiaries": 2, "hours": 1.5})
        changes.transition(c, enterprise["id"], "resolve", actor="ent-officer-li", details={"outcome": "solved"})
    return {"hazard": hazard, "late": late, "service": service, "enterprise": enterprise}


def totals(engine):
    with engine.connect() as c:
        found = {}
        for r in counts.tally_rows(c):
            bucket = found.setdefault(r.kind, {})
            bucket[r.metric] = bucket.get(r.metric, 0) + r.value
    return found


def test_each_event_of_the_workflow_is_counted(engine, worked):
    hazard = totals(engine)["hazard"]
    assert hazard == {"received": 2, "acknowledged": 1, "in_progress": 1, "resolved": 2, "closed": 2,
                      "closed_on_time": 1, "closed_late": 1, "overdue": 1,
                      "rated": 1, "rating_sum": 5, "satisfied": 1, "confirmed_fixed": 1}
    assert derived(hazard)["on_time_rate"] == 0.5
    assert derived(hazard)["average_rating"] == 5
    assert totals(engine)["consultation"] == {"received": 1, "resolved": 1, "sessions": 1, "beneficiaries": 2,
                                              "hours": 1.5}
    assert totals(engine)["enterprise"] == {"received": 1, "resolved": 1, "solved": 1}


def test_an_event_reached_again_is_not_counted_again(engine, worked):
    before = totals(engine)
    with engine.begin() as c:
        changes.transition(c, worked["late"]["id"], "reopen", actor="sy-secretary")
        changes.transition(c, worked["late"]["id"], "resolve", actor="sy-grid")
        row = cases.submission(c, worked["late"]["id"])
        # A redelivered one-tap link or a retried message counts through the same key.
        counts.count_transition(c, row, "resolved", base.now(), {})
    after = totals(engine)
    assert after["hazard"] == {**before["hazard"], "reopened": 1}


def test_the_sweep_counts_an_open_overdue_case_once(runtime, stub_worker, settings, engine):
    [late] = seed(runtime, settings, ("hazard", HAZARD[2]), submitted_at=datetime.now(timezone.utc) - timedelta(days=9))
    with engine.begin() as c:
        assert counts.count_overdue_cases(c, base.now()) == 1
        assert counts.count_overdue_cases(c, base.now()) == 0
    assert totals(engine)["hazard"]["overdue"] == 1
    assert derived(totals(engine)["hazard"])["on_time_rate"] == 0


def test_a_rebuild_from_the_records_gives_the_same_tallies_and_times(engine, worked):
    with engine.begin() as c:
        before = sorted(tuple(r) for r in counts.tally_rows(c))
        times = sorted(tuple(r) for r in counts.duration_rows(c))
        counts.rebuild_tallies(c)
        assert sorted(tuple(r) for r in counts.tally_rows(c)) == before
        assert sorted(tuple(r) for r in counts.duration_rows(c)) == times


def test_months_carry_median_times_and_rates(engine, worked):
    with engine.connect() as c:
        months = summarise_months(counts.tally_rows(c), counts.duration_rows(c))
    this_month = months["hazard"][max(months["hazard"])]
    assert this_month["median_hours_to_acknowledge"] >= 0
    assert this_month["median_hours_to_resolve"] > 0
    assert this_month["satisfied_share"] == 1


def test_the_public_tallies_show_months_and_rates(client, worked):
    body = client.get("/api/v1/tallies").json
    assert body["rates"]["hazard"]["on_time_rate"] == 0.5
    month = max(body["by_month"]["hazard"])
    assert body["by_month"]["hazard"][month]["resolved"] >= 1
