"""The street's public face: the front page (`/`), the public problem list (公开问题清单, `/problems`) and its
map (`/problems/map`). Server-rendered, no JavaScript, no third-party requests.

What is public: for a hazard, its category, community, a coarse place (no door or building numbers), status,
dates, the office's public replies and after-photos; the resident's own words and photos only once staff
published them (a `publish` step). Sessions teams held appear as outcomes. Enterprise requests and
consultation requests never appear; names and phones never.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from functions.forms import CATEGORIES
from functions.problems import pick_lang
from functions.services import services
from minqing.privacy import coarse_place, mask_personal_numbers_in
from minqing.receipts import parse_receipt
from schemas.choices import CASE_STATUSES, Label
from schemas.fields import BEIJING

blueprint = Blueprint("public", __name__, template_folder="templates")
PAGE = 30
MAP_CASES, MAP_CELLS = 1000, 50  # the newest cases drawn, in at most this many places

TEXT = {
    "html_lang": ("zh-CN", "en"),
    "lang": ("English", "中文"),
    "welcome": ("有事您说，我们来办", "Tell us; we will see to it"),
    "forms": ("我要反映", "Report or ask"),
    "hazard": ("隐患上报", "Report a hazard"),
    "hazard_hint": ("路灯、围墙、消防、积水……拍照上报", "Lights, walls, fire safety, flooding… with a photo"),
    "consultation": ("预约咨询服务", "Ask for a service"),
    "consultation_hint": ("法律、医疗、心理等上门或坐诊服务", "Legal, medical, counselling and other services"),
    "enterprise": ("企业诉求", "Enterprise request"),
    "enterprise_hint": ("办照、税务、用工等问题，包保干部对接", "Licences, tax, staffing: an official answers"),
    "lookup": ("查询办理进度", "Look up my receipt"),
    "receipt": ("回执码", "Receipt code"),
    "lookup_go": ("查询", "Look it up"),
    "bad_receipt": ("没有这个回执码，请核对后重试。", "No such receipt; check the code and try again."),
    "problems": ("公开问题清单", "Public problem list"),
    "problems_hint": ("居民反映的隐患和办理结果", "What residents reported and what was done"),
    "map": ("问题地图", "Map"),
    "dashboard": ("效果清单（数据看板）", "Outcomes (dashboard)"),
    "public_note": ("清单只公开类别、社区、大致位置和办理情况；居民的原话和照片经工作人员审核后才公开，"
                    "姓名和电话从不公开。企业诉求和咨询预约不公开。",
                    "The list shows category, community, rough place and progress. A resident's own words and "
                    "photos appear only once staff publish them; names and phones never do. Enterprise requests "
                    "and service requests are not listed."),
    "all": ("全部", "All"),
    "community": ("社区", "Community"),
    "category": ("类别", "Category"),
    "status": ("状态", "Status"),
    "filter": ("筛选", "Filter"),
    "submitted": ("反映于", "Reported"),
    "updated": ("更新于", "Updated"),
    "reply": ("答复", "Reply"),
    "after": ("整改后照片", "After the work"),
    "photos": ("居民照片", "Resident's photos"),
    "session": ("已开展服务", "Session held"),
    "served": ("服务{n}人", "{n} people served"),
    "none": ("暂无记录。", "Nothing here yet."),
    "newer": ("上一页", "Newer"),
    "older": ("下一页", "Older"),
    "details": ("办理进度", "Progress"),
    "map_note": ("按上报位置绘制（约百米精度），无底图；点击圆点查看进度。没有位置的事项列在清单中。",
                 "Drawn from the reported positions (to about 100 m), without a base map; a dot opens the case. "
                 "Reports without a position are in the list."),
    "list": ("清单", "List"),
    "open_legend": ("未办结", "Open"),
    "done_legend": ("已办结", "Resolved or closed"),
    "here": ("此处{n}件，{o}件未办结；最新：", "{n} here, {o} open; newest: "),
}


def texts(lang: str) -> dict[str, str]:
    return {key: pair[1 if lang == "en" else 0] for key, pair in TEXT.items()}


def _pick(label, lang: str) -> str:
    return label.en if lang == "en" else label.zh


def _lang_query(lang: str) -> dict:
    return {"lang": "en"} if lang == "en" else {}


@blueprint.get("/")
def home():
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    street = svc.directory.street
    q = _lang_query(lang)
    forms = [(texts(lang)[kind], texts(lang)[kind + "_hint"], url_for("pages.form", kind=kind, **q))
             for kind in ("hazard", "consultation", "enterprise")]
    body = render_template("home.html", t=texts(lang), street=_pick(street.name, lang), forms=forms, q=q,
                           title=_pick(street.name, lang), other=url_for("public.home", lang="zh" if lang == "en" else "en"),
                           error=request.args.get("bad") == "1")
    return _page(body, lang, cache=True)


@blueprint.get("/lookup")
def lookup():
    """The front page's receipt box: a code we issued goes to its status page; any other comes back."""
    lang = pick_lang(services().settings.default_lang)
    parsed = parse_receipt(services().settings.secret_key, request.args.get("receipt", "")[:40])
    if parsed is None:
        return redirect(url_for("public.home", bad="1", **_lang_query(lang)) + "#lookup", 303)
    return redirect(url_for("status.show", receipt=parsed[1], **_lang_query(lang)), 303)


def _filters(lang: str):
    directory = services().directory
    community = request.args.get("c") if request.args.get("c") in directory.communities else None
    category = request.args.get("cat") if request.args.get("cat") in CATEGORIES["hazard"] else None
    status = request.args.get("s") if request.args.get("s") in CASE_STATUSES else None
    try:
        page = max(0, min(int(request.args.get("p", "0")), 1000))
    except ValueError:
        page = 0
    return community, category, status, page


def _items(connection, rows, lang: str) -> list[dict]:
    from minqing.store import public

    directory = services().directory
    known = public.summaries(connection, [row.id for row in rows])
    items = []
    for row in rows:
        community = directory.communities.get(row.community or "")
        payload = row.payload or {}
        item = {
            "receipt": row.receipt,
            "kind": row.kind,
            "community": _pick(community.name, lang) if community else "",
            "category": _pick(CATEGORIES[row.kind].get(row.category, Label(row.category, row.category)), lang),
            "status": _pick(CASE_STATUSES.get(row.status, Label(row.status, row.status)), lang),
            "open": row.status not in ("resolved", "closed", "rejected"),
            "submitted": row.submitted_at.astimezone(BEIJING).strftime("%Y-%m-%d"),
            "updated": row.updated_at.astimezone(BEIJING).strftime("%Y-%m-%d"),
            "text": "", "photos": [], "after": [], "reply": "", "served": None, "point": None,
        }
        if row.kind == "hazard":
            summary = known[row.id]
            item["place"] = coarse_place((payload.get("location") or {}).get("address"))
            published = summary["published"]
            if published:
                text = published["text"] if published["text"] is not None else payload.get("description", "")
                item["text"] = mask_personal_numbers_in(text)
                item["photos"] = [url_for("public.photo", receipt=row.receipt, index=i)
                                  for i in range(len(published["photos"]))]
            item["reply"] = summary["reply"]
            if summary["resolve"] and row.status in ("resolved", "closed"):
                step, after = summary["resolve"]
                item["after"] = [url_for("status.photo", receipt=row.receipt, step=step, index=i)
                                 for i in range(len(after))]
            location = payload.get("location") or {}
            if "lat" in location and "lon" in location:
                item["point"] = (round(location["lat"], 3), round(location["lon"], 3))
        else:  # a session a team held: an outcome, in the team's words (not a resident's)
            item["place"] = ""
            item["served"] = payload.get("beneficiaries")
            item["text"] = mask_personal_numbers_in(payload.get("provider", ""))
        items.append(item)
    return items


@blueprint.get("/problems")
def problems():
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    community, category, status, page = _filters(lang)
    from minqing.store import public

    with svc.engine.connect() as connection:
        rows = public.problem_list(connection, community=community, category=category, status=status,
                                   limit=PAGE + 1, offset=page * PAGE)
        items = _items(connection, rows[:PAGE], lang)
    query = {k: v for k, v in {"c": community, "cat": category, "s": status, **_lang_query(lang)}.items() if v}
    body = render_template(
        "problems.html", t=texts(lang), items=items, title=texts(lang)["problems"], q=_lang_query(lang),
        communities=[(c.code, _pick(c.name, lang)) for c in svc.directory.communities.values()],
        categories=[(code, _pick(label, lang)) for code, label in CATEGORIES["hazard"].items()],
        statuses=[(code, _pick(label, lang)) for code, label in CASE_STATUSES.items()],
        chosen={"c": community, "cat": category, "s": status}, lang=lang,
        newer=url_for("public.problems", p=page - 1, **query) if page else None,
        older=url_for("public.problems", p=page + 1, **query) if len(rows) > PAGE else None,
        other=url_for("public.problems", **{**query, "lang": "zh" if lang == "en" else "en"}))
    return _page(body, lang)


@blueprint.get("/problems/map")
def problem_map():
    """The reported places as an SVG drawn on the server: no tiles, no script, nothing from elsewhere."""
    svc = services()
    lang = pick_lang(svc.settings.default_lang)
    community, category, status, _ = _filters(lang)
    from minqing.store import public

    with svc.engine.connect() as connection:
        rows = public.problem_list(connection, community=community, category=category, status=status,
                                   limit=MAP_CASES)
        items = [i for i in _items(connection, [r for r in rows if r.kind == "hazard"], lang) if i["point"]]
    dots = _project(_cells(items))
    query = {k: v for k, v in {"c": community, "cat": category, "s": status, **_lang_query(lang)}.items() if v}
    body = render_template(
        "problems_map.html", t=texts(lang), dots=dots, title=texts(lang)["map"], q=_lang_query(lang),
        communities=[(c.code, _pick(c.name, lang)) for c in svc.directory.communities.values()],
        categories=[(code, _pick(label, lang)) for code, label in CATEGORIES["hazard"].items()],
        statuses=[(code, _pick(label, lang)) for code, label in CASE_STATUSES.items()],
        chosen={"c": community, "cat": category, "s": status}, lang=lang,
        other=url_for("public.problem_map", **{**query, "lang": "zh" if lang == "en" else "en"}))
    return _page(body, lang)


def _cells(items: list[dict]) -> list[dict]:
    """One dot per place (the same ~100 m), newest case first: the page stays small however many there are."""
    cells: dict = {}
    for item in items:  # newest first
        cell = cells.setdefault(item["point"], {**item, "count": 0, "open_count": 0})
        cell["count"] += 1
        cell["open_count"] += item["open"]
        cell["open"] = cell["open_count"] > 0
    return list(cells.values())[:MAP_CELLS]


def _project(items: list[dict], width: int = 320, height: int = 320, margin: int = 14) -> list[dict]:
    """Positions in an SVG box of `width` × `height`: an equirectangular projection of the points' extent."""
    if not items:
        return []
    lats = [i["point"][0] for i in items]
    lons = [i["point"][1] for i in items]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    span = max(north - south, east - west, 0.002)
    scale = (min(width, height) - 2 * margin) / span
    found = []
    for item in items:
        lat, lon = item["point"]
        x = margin + (lon - west) * scale
        y = height - margin - (lat - south) * scale
        found.append({**item, "x": round(x, 1), "y": round(y, 1)})
    return found


@blueprint.get("/problems/<receipt>/photos/<int:index>")
def photo(receipt: str, index: int):
    """A resident's photo that staff published, as its EXIF-free copy."""
    svc = services()
    parsed = parse_receipt(svc.settings.secret_key, receipt)
    if parsed is None:
        abort(404)
    from minqing.store import cases, public

    with svc.engine.connect() as connection:
        case = cases.case_by_receipt(connection, parsed[1])
        published = case is not None and case.kind == "hazard" and public.publication(connection, case.id)
        key = published["photos"][index] if published and index < len(published["photos"]) else None
        copy = key and public.clean_copy(connection, key)
    return photo_answer(copy, "no-cache")  # an unpublished photo must go at once


def photo_answer(copy: str | None, cache_control: str):
    """A photo's EXIF-free copy (its stored key), or 404 when there is none: every public photo route."""
    data = copy and services().attachments.get(copy)
    if not data:
        abort(404)
    response = make_response(data)
    response.headers["Content-Type"] = "image/jpeg"
    response.headers["Cache-Control"] = cache_control
    return response


def _page(body: str, lang: str, *, cache: bool = False):
    response = make_response(body, 200)
    response.headers["Content-Language"] = "en" if lang == "en" else "zh-CN"
    response.headers["Cache-Control"] = "public, max-age=300" if cache else "no-cache"
    response.headers["Vary"] = "Accept-Language"
    return response
