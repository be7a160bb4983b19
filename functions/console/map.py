"""The maps of open hazards in scope: /staff/map (points coloured by status, overdue ringed, each a link to
its case) and a case page's small map of where it is. Both are plain SVG drawn here, so with no tile server
configured no request leaves the site; with `MINQING_MAP_TILES` the page also carries what
`/assets/staff-map.js` needs to turn them into Leaflet maps over those tiles (the SVG and the list of
links stay for browsers without JavaScript)."""

from __future__ import annotations

from flask import g

from functions.console.base import blueprint, community_name, lang, page, staff_page
from functions.console.texts import CASE_STATUSES, CATEGORIES, label
from functions.services import services
from minqing.domain import geo, workflow
from minqing.store import base, cases, scopes

COLOURS = {"received": "#c62828", "acknowledged": "#ef6c00", "in_progress": "#1565c0", "reopened": "#6a1b9a"}
WIDTH, HEIGHT = 640, 480
SMALL_WIDTH, SMALL_HEIGHT, NEIGHBOURS = 320, 200, 60


def map_system() -> str:
    """The system the maps draw in: the tiles' when there are tiles, else WGS-84 (the phones')."""
    settings = services().settings
    return settings.map_tiles_crs if settings.map_tiles else geo.WGS84


def tile_layer() -> dict | None:
    """What the enhancing script needs to draw the tile layer, or None: no tiles, no Leaflet at all."""
    settings = services().settings
    if not settings.map_tiles:
        return None
    return {"url": settings.map_tiles, "subdomains": settings.map_tiles_subdomains,
            "attribution": settings.map_attribution}


def position(location, system: str) -> tuple[float, float] | None:
    """A stored `location`'s point in `system`, or None without one. Each point converts from its own
    `crs` (a form may send GCJ-02 from a Chinese map app), so none is shifted twice."""
    where = location if isinstance(location, dict) else {}
    lat, lon = where.get("lat"), where.get("lon")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)):
        return None
    converted = geo.in_system(float(lat), float(lon), where.get("crs"), system)
    return round(converted[0], 6), round(converted[1], 6)


def placed(rows, system: str, width: int, height: int, language: str, at) -> list[dict]:
    """The rows with a position as points: where in a width×height box, their colour, labels, overdue."""
    found = [(row, spot) for row in rows if (spot := position(row.location, system))]
    boxed = geo.fit([spot for _, spot in found], width, height)
    return [{"id": row.id, "receipt": row.receipt, "x": x, "y": y, "lat": lat, "lon": lon,
             "colour": COLOURS.get(row.status, "#555"), "status": label(CASE_STATUSES, row.status, language),
             "category": label(CATEGORIES, row.category, language),
             "community": community_name(row.community, language), "code": row.community,
             "overdue": workflow.is_overdue(row.status, row.due_at, at)}
            for (row, (lat, lon)), (x, y) in zip(found, boxed)]


@blueprint.get("/staff/map")
@staff_page
def hazard_map():
    at, language = base.now(), lang()
    with services().engine.connect() as connection:
        rows = cases.hazard_points(connection, scopes.scope_clause(g.staff))
    points = placed(rows, map_system(), WIDTH, HEIGHT, language, at)
    areas = {}
    for point in points:
        areas.setdefault(point["community"], []).append((point["x"], point["y"]))
    labels = [{"name": name, "x": sum(p[0] for p in xy) / len(xy), "y": min(p[1] for p in xy) - 10}
              for name, xy in areas.items() if name]
    legend = [(label(CASE_STATUSES, s, language), c) for s, c in COLOURS.items()]
    return page("map.html", points=points, labels=labels, legend=legend, width=WIDTH, height=HEIGHT,
                tiles=tile_layer())


def case_map(connection, case, language: str) -> dict | None:
    """A case page's small map: the case's point among its community's other open hazards in scope (or
    alone), or None for a case without a position."""
    system = map_system()
    here = position((case.payload or {}).get("location"), system)
    if here is None:
        return None
    rows = []
    if case.kind == "hazard" and case.community:
        rows = [r for r in cases.hazard_points(connection, scopes.scope_clause(g.staff), NEIGHBOURS,
                                               community=case.community) if r.id != case.id]
    points = placed(rows, system, SMALL_WIDTH, SMALL_HEIGHT, language, base.now())
    # Fitted together, so the case sits where it is among the others; it is the last point, drawn on top.
    boxed = geo.fit([(p["lat"], p["lon"]) for p in points] + [here], SMALL_WIDTH, SMALL_HEIGHT, margin=20)
    for point, (x, y) in zip(points, boxed):
        point["x"], point["y"] = x, y
    return {"lat": here[0], "lon": here[1], "x": boxed[-1][0], "y": boxed[-1][1], "others": points,
            "width": SMALL_WIDTH, "height": SMALL_HEIGHT, "tiles": tile_layer()}
