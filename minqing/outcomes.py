"""The outcome list (效果清单) as the street reports it: the figures of the public dashboard and of the
monthly report, from tally rows and duration rows only (no personal data ever reaches them). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from minqing.domain.tallies import _number, derived, median, month_of

# The headline figures, in the order the annual report gives them: (key, kind, metric, zh, en).
HEADLINES = (
    ("hazards_found", "hazard", "received", "发现隐患", "Hazards found"),
    ("hazards_rectified", "hazard", "resolved", "整改隐患", "Hazards rectified"),
    ("sessions_held", "consultation", "sessions", "开展服务", "Sessions held"),
    ("residents_served", "consultation", "beneficiaries", "服务居民", "Residents served"),
    ("service_hours", "consultation", "hours", "服务时长（小时）", "Service hours"),
    ("enterprise_taken", "enterprise", "received", "受理企业诉求", "Enterprise problems taken"),
    ("enterprise_solved", "enterprise", "solved", "解决企业诉求", "Enterprise problems solved"),
)
RATES = (
    ("on_time_rate", "按时办结率", "Resolved on time"),
    ("satisfied_share", "群众满意率", "Residents satisfied"),
    ("average_rating", "平均评分（5分制）", "Average rating (of 5)"),
    ("median_hours_to_acknowledge", "签收用时中位数（小时）", "Median hours to acknowledge"),
    ("median_hours_to_resolve", "办结用时中位数（小时）", "Median hours to resolve"),
    ("nudges", "居民催办次数", "Times residents chased a case (催办)"),
    ("nudge_rate", "催办率", "Cases chased by their reporter"),
)
# The (kind, metric) pairs the headline figures are made of.
WANTED = tuple((kind, metric) for _, kind, metric, *_ in HEADLINES)
# The series drawn on the charts: (key, zh, en), each a headline key.
CHARTED = ("hazards_found", "hazards_rectified", "sessions_held", "enterprise_solved")


@dataclass
class Outcomes:
    headline: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float | None] = field(default_factory=dict)
    by_community: dict[str, dict[str, float]] = field(default_factory=dict)
    by_month: dict[str, dict[str, float]] = field(default_factory=dict)
    by_category: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)


def outcomes(rows, durations=(), *, months: list[str] | None = None, medians: dict | None = None) -> Outcomes:
    """Sum tally rows (metric, kind, community, category, day, value) into the reported figures.

    `months` ("2026-01" …) fixes the months shown on the line, so a quiet month shows as zero. `medians`
    (event → seconds), if given, stand for the duration rows' medians (`counts.median_seconds`).
    """
    wanted = {(kind, metric): key for key, kind, metric, *_ in HEADLINES}
    found = Outcomes(headline={key: 0 for key, *_ in HEADLINES})
    found.by_month = {month: {key: 0 for key in CHARTED} for month in (months or [])}
    all_metrics: dict[str, float] = {}
    for row in rows:
        value = float(row.value)
        all_metrics[row.metric] = all_metrics.get(row.metric, 0) + value
        key = wanted.get((row.kind, row.metric))
        if key is None:
            continue
        found.headline[key] += value
        if row.community:
            _add(found.by_community.setdefault(row.community, {}), key, value)
        _add(found.by_month.setdefault(month_of(row.day), {k: 0 for k in CHARTED}), key, value)
        _add(found.by_category.setdefault((row.kind, row.category), {}), key, value)
    rates = derived(all_metrics)
    for event, key in (("acknowledged", "median_hours_to_acknowledge"), ("resolved", "median_hours_to_resolve")):
        if medians is not None:
            middle = medians.get(event)
        else:
            middle = median([row.seconds for row in durations if row.event == event])
        rates[key] = round(middle / 3600, 1) if middle is not None else None
    # 催办: each nudge (one a day per case), and the share of cases received that were chased at all.
    rates["nudges"] = all_metrics.get("nudges", 0)
    if all_metrics.get("received"):
        rates.setdefault("nudge_rate", round(all_metrics.get("nudged", 0) / all_metrics["received"], 4))
    found.rates = {key: rates.get(key) for key, *_ in RATES}
    # To the hundredth, as the public tallies give them: hours summed by month or by day differ in the last bit.
    found.headline = _hundredths(found.headline)
    for breakdown in (found.by_community, found.by_month, found.by_category):
        for name, figures in breakdown.items():
            breakdown[name] = _hundredths(figures)
    found.by_month = dict(sorted(found.by_month.items()))
    return found


def _hundredths(figures: dict) -> dict:
    return {key: _number(value) for key, value in figures.items()}


def _add(bucket: dict, key: str, value: float) -> None:
    bucket[key] = bucket.get(key, 0) + value


def months_of_year(year: int) -> list[str]:
    return [f"{year}-{month:02d}" for month in range(1, 13)]


def shown(value: float | None, key: str = "") -> str:
    """A figure as printed: whole numbers without decimals, shares as percentages, blanks as "—"."""
    if value is None:
        return "—"
    if key in ("on_time_rate", "satisfied_share", "nudge_rate"):
        return f"{value * 100:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
