"""The public counts: what was found, held and taken, by kind, community, category and day.

By default the office's current year; `from`/`to` (YYYY-MM-DD) for another period. Summed in the
database, kept a short while (functions/read_cache.py) and sent with an ETag and Cache-Control."""

from datetime import date, datetime

import orjson
from flask import Blueprint, make_response, request

from functions.problems import Problem
from functions.read_cache import not_modified, read_cache
from functions.services import services

blueprint = Blueprint("tallies", __name__)

UNREADABLE = ("暂时无法读取统计，请稍后重试。", "Tallies cannot be read right now.")
CACHE_CONTROL = "public, max-age=60"


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


def _this_year() -> int:
    from minqing.domain.tallies import OFFICE_TZ

    return datetime.now(OFFICE_TZ).year


@blueprint.get("/api/v1/tallies")
def tallies():
    svc = services()
    since, until = _day("from"), _day("to")
    if since is None:
        # A bounded period by default: the year of `to`, or this year; `from` asks for more.
        since = date((until or date(_this_year(), 1, 1)).year, 1, 1)
    from minqing.store import counts

    def make() -> str:
        with svc.engine.connect() as connection:
            found = counts.summary(connection, since=since, until=until, alongside=svc.engine)
        street = svc.directory.street
        body = {"street": {"code": street.code, "name": {"zh": street.name.zh, "en": street.name.en}},
                "from": since.isoformat(), "to": until and until.isoformat(), **found}
        # orjson: the answer is mostly a number per day, kind and metric, and json.dumps took a tenth of it.
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)

    try:
        with svc.engine.connect() as connection:
            token = counts.last_change(connection)
        body, etag = read_cache().get(("tallies", since, until), token, make)
    except Exception:
        raise Problem(503, "database-unavailable", UNREADABLE, headers={"Retry-After": "5"})
    response = make_response("" if not_modified(etag) else body, 304 if not_modified(etag) else 200)
    if response.status_code == 200:
        response.headers["Content-Type"] = "application/json"
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
