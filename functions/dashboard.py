"""The public outcome dashboard (效果清单): the street's numbers as its annual report gives them.

Built from the tallies alone, so it carries no personal data; charts are SVG drawn here.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, make_response, render_template, request

from functions.services import services
from functions.problems import Problem, pick_lang
from functions.read_cache import not_modified, read_cache

blueprint = Blueprint("dashboard", __name__, template_folder="templates")

UNREADABLE = ("暂时无法读取统计，请稍后重试。", "The figures cannot be read right now; retry later.")


@blueprint.get("/dashboard")
def dashboard():
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    year = _year()
    from minqing import charts
    from minqing.outcomes import CHARTED, HEADLINES, RATES, WANTED, months_of_year, outcomes, shown
    from minqing.store import counts
    from minqing.store.base import read_alongside

    since, until = date(year, 1, 1), date(year, 12, 31)

    def make() -> str:
        # The medians read alongside the sums, each on a connection of its own.
        medians = read_alongside(svc.engine, counts.median_seconds, since=since, until=until, by_month=False)
        with svc.engine.connect() as connection:
            rows = counts.outcome_rows(connection, WANTED, since=since, until=until)
        figures = outcomes(rows, months=months_of_year(year), medians=medians.result())
        en = lang == "en"
        names = {key: (en_name if en else zh) for key, _, _, zh, en_name in HEADLINES}
        communities = svc.directory.communities
        community_rows = [((c.name.en if en else c.name.zh),
                           [figures.by_community.get(code, {}).get(k, 0) for k in CHARTED[:2]])
                          for code, c in communities.items()]
        by_community = charts.bars("各社区隐患发现与整改" if not en else "Hazards found and rectified by community",
                                   community_rows, [names[k] for k in CHARTED[:2]])
        monthly = charts.line("逐月情况" if not en else "Month by month", list(figures.by_month),
                              [[m[k] for m in figures.by_month.values()] for k in CHARTED],
                              [names[k] for k in CHARTED])
        street = svc.directory.street
        return render_template(
            "dashboard.html", lang=lang, en=en, year=year, street=street.name.en if en else street.name.zh,
            headline=[(names[key], shown(figures.headline[key])) for key, *_ in HEADLINES],
            rates=[((en_name if en else zh), shown(figures.rates.get(key), key)) for key, zh, en_name in RATES],
            by_community=by_community, monthly=monthly, other_lang="zh-CN" if en else "en")

    try:
        with svc.engine.connect() as connection:
            token = counts.last_change(connection)
        html, etag = read_cache().get(("dashboard", year, lang), token, make)
    except Exception:
        raise Problem(503, "database-unavailable", UNREADABLE, headers={"Retry-After": "5"})
    if not_modified(etag):
        response = make_response("", 304)
        response.headers["Cache-Control"] = "public, max-age=300"
    else:
        response = html_response(html)
    response.headers["ETag"] = etag
    response.headers["Vary"] = "Accept-Language"
    response.headers["Content-Language"] = lang
    return response


def html_response(html: str):
    from flask import make_response

    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _year() -> int:
    value = request.args.get("year")
    if value is None:
        return date.today().year
    if not (value.isdigit() and len(value) == 4 and 2000 <= int(value) <= 2100):
        raise Problem(400, "bad-year", ("年份格式应为四位数字，如2026。", "The year is four digits, e.g. 2026."),
                      errors={"year": ["应为2000到2100之间的年份" if pick_lang() != "en" else "expected a year 2000–2100"]})
    return int(value)


@blueprint.context_processor
def patrol_section() -> dict:
    """平安合伙人 for the dashboard's include `_patrol.html`: teams' totals by community for the year, from
    patrol_tallies; no individual, and no team with fewer than 5 findings named (they are "other teams")."""
    if request.endpoint != "dashboard.dashboard":
        return {}
    from minqing.domain.patrol import OTHER_TEAMS, team_totals
    from minqing.store import patrol_counts

    svc = services()
    en = pick_lang(svc.settings.default_lang) == "en"
    year = _year()
    try:
        with svc.engine.connect() as connection:
            rows = patrol_counts.patrol_rows(connection, since=f"{year}-01", until=f"{year}-12")
    except Exception:
        raise Problem(503, "database-unavailable", UNREADABLE, headers={"Retry-After": "5"})
    communities = svc.directory.communities
    shown = [{"community": (communities[r.community].name.en if en else communities[r.community].name.zh)
              if r.community in communities else r.community,
              "team": r.team or OTHER_TEAMS[1 if en else 0], **r.values} for r in team_totals(rows)]
    return {"patrol": shown}
