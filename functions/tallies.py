"""The public counts: what was found, held and taken, by kind, community, category and day."""

from datetime import date

from flask import Blueprint, jsonify, request

from functions.services import services
from functions.problems import Problem

blueprint = Blueprint("tallies", __name__)


def _day(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(400, "bad-date", ("日期格式应为 YYYY-MM-DD。", "Dates are YYYY-MM-DD."),
                      errors={name: ["日期格式应为 YYYY-MM-DD" if not request.args.get("lang", "").startswith("en")
                                     else "expected YYYY-MM-DD"]})


@blueprint.get("/api/v1/tallies")
def tallies():
    svc = services()
    since, until = _day("from"), _day("to")
    from minqing.store import counts
    from minqing.domain.tallies import derived, summarise, summarise_months

    try:
        with svc.engine.connect() as connection:
            rows = counts.tally_rows(connection, since=since, until=until)
            durations = counts.duration_rows(connection, since=since, until=until)
    except Exception:
        raise Problem(503, "database-unavailable", ("暂时无法读取统计，请稍后重试。", "Tallies cannot be read right now."),
                      headers={"Retry-After": "5"})
    street = svc.directory.street
    body = {"street": {"code": street.code, "name": {"zh": street.name.zh, "en": street.name.en}},
            "from": since and since.isoformat(), "to": until and until.isoformat(), **summarise(rows)}
    body["rates"] = {kind: derived(metrics) for kind, metrics in body["totals"].items()}
    body["by_month"] = summarise_months(rows, durations)
    return jsonify(body)
