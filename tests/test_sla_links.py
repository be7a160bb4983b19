"""SLA limits, escalation targets, signed one-tap links and the SQLite rate limiter (pure or local)."""

from datetime import datetime, timedelta, timezone

import pytest

from minqing import links
from minqing.directory import Directory, DirectoryError, load_directory, default_directory_path
from workers.rate_limits import take
from workers.rate_limits.sqlite import SQLiteBackend
from minqing.domain.deadlines import due_at, escalation_target, limit_for
from minqing.testing.peers import directory_toml

SECRET = "link-secret"


def span(limit):
    return (limit.amount, limit.unit)


def test_default_limits_follow_12345_practice():
    directory = Directory.from_mapping(directory_toml())
    assert span(limit_for(directory, kind="hazard", category="fire_safety", priority="urgent")) == (2, "hours")
    assert span(limit_for(directory, kind="consultation", category="legal_advice", priority="*")) == (3, "working_days")
    assert span(limit_for(directory, kind="enterprise", category="tax", priority="normal")) == (7, "days")


def test_the_directory_overrides_the_defaults():
    directory = load_directory(default_directory_path())
    assert span(limit_for(directory, kind="hazard", category="structure", priority="high")) == (1, "days")


def test_an_sla_entry_needs_exactly_one_unit():
    text = directory_toml() + '\n[[sla]]\nkind = "hazard"\nhours = 2\ndays = 1\n'
    with pytest.raises(DirectoryError, match=r"sla\[0\]: give exactly one of hours, days, working_days"):
        Directory.from_mapping(text)


def test_working_days_skip_the_weekend():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    limit = limit_for(Directory.from_mapping(directory_toml()), kind="consultation", category="other", priority="*")
    assert due_at(friday_evening, limit).date().isoformat() == "2026-12-02"  # Mon, Tue, Wed


def test_escalation_climbs_from_above_the_assignee():
    chain = ("grid", "secretary", "leader")
    assert [escalation_target(chain, ["grid"], level) for level in (1, 2, 3)] == ["secretary", "leader", None]
    assert escalation_target(chain, ["safety-office"], 1) == "grid"


def test_a_link_grants_its_action_to_its_assignee():
    token = links.sign(SECRET, "case-1", "qjj-grid", "acknowledge", 3600)
    grant = links.verify(SECRET, token)
    assert (grant.submission_id, grant.staff_id, grant.action) == ("case-1", "qjj-grid", "acknowledge")


def test_a_tampered_link_is_refused():
    token = links.sign(SECRET, "case-1", "qjj-grid", "acknowledge", 3600)
    other = links.sign(SECRET, "case-1", "qjj-grid", "resolve", 3600)
    forged = other.split(".")[0] + "." + token.split(".")[1]  # resolve's payload, acknowledge's signature
    for bad in (forged, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1], "nonsense", ""):
        with pytest.raises(links.LinkRefused, match="invalid"):
            links.verify(SECRET, bad)
    with pytest.raises(links.LinkRefused, match="invalid"):
        links.verify("another-secret", token)


def test_an_expired_link_is_refused():
    token = links.sign(SECRET, "case-1", "qjj-grid", "resolve", 60, now=1_000_000)
    assert links.verify(SECRET, token, now=1_000_059).action == "resolve"
    with pytest.raises(links.LinkRefused, match="expired"):
        links.verify(SECRET, token, now=1_000_060)


def test_the_sqlite_rate_limiter_is_shared_through_its_file(tmp_path):
    first, second = SQLiteBackend(tmp_path / "rl.db"), SQLiteBackend(tmp_path / "rl.db")
    assert [take(first, "robot", 3), take(second, "robot", 3), take(first, "robot", 3)] == [True] * 3
    assert take(second, "robot", 3) is False
    assert take(first, "another-robot", 3) is True
