"""The maps of open hazards in scope: /staff/map (points coloured by status, overdue ringed, each a link to
its case) and a case page's small map of where it is. Both are plain SVG drawn here, so with no tile server
configured no request leaves the site. With `MINQING_MAP_TILES`, /staff/map also carries what
`/assets/staff-map.js` needs to turn its SVG into a Leaflet map over those tiles (the SVG and the list of
links stay for browsers without JavaScript), and the case page's small map is those tiles as images."""

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
CASE_ZOOM = 17  # about 1 m a pixel in China's latitudes: the case's block and its streets


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
    """A case page's small map: the case's point among its community's other open hazards in scope, or
    None for a case without a position. Drawn on the server either way: over the tiles as plain images
    when there are tiles (no script, and no 40 KB of Leaflet on a page that only needs a glance), else SVG."""
    system = map_system()
    here = position((case.payload or {}).get("location"), system)
    if here is None:
        return None
    rows = []
    if case.kind == "hazard" and case.community:
        rows = [r for r in cases.hazard_points(connection, scopes.scope_clause(g.staff), NEIGHBOURS,
                                               community=case.community) if r.id != case.id]
    points = placed(rows, system, SMALL_WIDTH, SMALL_HEIGHT, language, base.now())
    shown = {"lat": here[0], "lon": here[1], "width": SMALL_WIDTH, "height": SMALL_HEIGHT}
    settings = services().settings
    if settings.map_tiles:
        for point in points:
            point["dx"], point["dy"] = geo.offset(point["lat"], point["lon"], here, CASE_ZOOM)
        inside = [p for p in points if abs(p["dx"]) < SMALL_WIDTH / 2 and abs(p["dy"]) < SMALL_HEIGHT / 2]
        return {**shown, "others": inside,
                "tiles": [{"src": tile_url(settings, x, y), "left": left, "top": top}
                          for x, y, left, top in geo.tile_window(*here, CASE_ZOOM, SMALL_WIDTH, SMALL_HEIGHT)],
                "attribution": settings.map_attribution}
    # Fitted together, so the case sits where it is among the others; it is the last point, drawn on top.
    boxed = geo.fit([(p["lat"], p["lon"]) for p in points] + [here], SMALL_WIDTH, SMALL_HEIGHT, margin=20)
    for point, (x, y) in zip(points, boxed):
        point["x"], point["y"] = x, y
    return {**shown, "x": boxed[-1][0], "y": boxed[-1][1], "others": points, "tiles": None}


def tile_url(settings, x: int, y: int) -> str:
    """One tile's address from the template; the subdomain picked as Leaflet picks it, so both share a cache."""
    subdomains = settings.map_tiles_subdomains
    return (settings.map_tiles.replace("{s}", subdomains[abs(x + y) % len(subdomains)])
            .replace("{z}", str(CASE_ZOOM)).replace("{x}", str(x)).replace("{y}", str(y)))
