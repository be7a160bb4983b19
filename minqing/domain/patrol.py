"""Patrol counts (平安合伙人) by team × community × month, and the teams' totals as shown: plain functions.

Rounds, findings, rectified on site, rectified later (a finding resolved by staff), and the checks of staff's
work on a later round (核查): fixed or not fixed. A team with fewer than `SHOWN_FROM` findings is not named:
its numbers go to "other teams", so no small team (nearly one person) is singled out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from minqing.domain.tallies import office_day

METRICS = ("rounds", "findings", "rectified_on_site", "rectified_later", "checks_fixed", "checks_not_fixed")
SHOWN_FROM = 5  # findings a team needs in the period to be named
OTHER_TEAMS = ("其他队伍", "Other teams")


@dataclass(frozen=True)
class PatrolIncrement:
    team: str
    community: str
    month: str
    metric: str
    value: float = 1


def month_of(at: datetime) -> str:
    return office_day(at).strftime("%Y-%m")


def _team(data: dict) -> str:
    return ((data.get("patrol") or {}).get("team") or "").strip()


def finding_increments(data: dict, submitted_at: datetime) -> list[PatrolIncrement]:
    """A patrol's finding, counted in the month it was filed; nothing for a resident's report."""
    if not data.get("patrol"):
        return []
    return [PatrolIncrement(_team(data), data.get("community") or "", month_of(submitted_at), "findings")]


def round_increments(data: dict, submitted_at: datetime) -> list[PatrolIncrement]:
    """A round, counted once (the caller keys it by the round) in the month of its first finding."""
    if not data.get("patrol"):
        return []
    return [PatrolIncrement(_team(data), data.get("community") or "", month_of(submitted_at), "rounds")]


def resolution_increments(data: dict, event: str, at: datetime, details: dict | None) -> list[PatrolIncrement]:
    """A patrol's finding resolved: on the spot by the volunteer, or later by staff."""
    if event != "resolved" or not data.get("patrol"):
        return []
    metric = "rectified_on_site" if (details or {}).get("rectified_on_site") else "rectified_later"
    return [PatrolIncrement(_team(data), data.get("community") or "", month_of(at), metric)]


def check_increments(community: str, at: datetime, details: dict) -> list[PatrolIncrement]:
    """A check of staff's work by a volunteer (`details` as kept in the history: check, team)."""
    metric = "checks_fixed" if details.get("check") == "fixed" else "checks_not_fixed"
    return [PatrolIncrement(details.get("team") or "", community, month_of(at), metric)]


@dataclass(frozen=True)
class TeamRow:
    team: str  # "" for "other teams"
    community: str
    values: dict


def team_totals(rows) -> list[TeamRow]:
    """Rows (team, community, month, metric, value) summed per team × community over the period; teams
    with fewer than SHOWN_FROM findings in a community summed into one "other teams" row per community,
    last. Sorted by community, then by findings (most first), then team name."""
    summed: dict[tuple[str, str], dict] = {}
    for row in rows:
        bucket = summed.setdefault((row.community, row.team), dict.fromkeys(METRICS, 0))
        bucket[row.metric] = _number(bucket.get(row.metric, 0) + row.value)
    shown: list[TeamRow] = []
    others: dict[str, dict] = {}
    for (community, team), values in summed.items():
        if team and values["findings"] >= SHOWN_FROM:
            shown.append(TeamRow(team, community, values))
        else:
            bucket = others.setdefault(community, dict.fromkeys(METRICS, 0))
            for metric, value in values.items():
                bucket[metric] = _number(bucket[metric] + value)
    shown.sort(key=lambda r: (r.community, -r.values["findings"], r.team))
    result: list[TeamRow] = []
    for community in sorted({r.community for r in shown} | set(others)):
        result += [r for r in shown if r.community == community]
        if community in others:
            result.append(TeamRow("", community, others[community]))
    return result


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)
