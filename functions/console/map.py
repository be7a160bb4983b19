"""The map of open hazards in scope (/staff/map): points coloured by status, overdue ringed, each a link to
its case: a plain SVG drawn here, so no request leaves the site. (A tile layer is not built yet.)"""

from __future__ import annotations

from flask import g

from functions.console.base import blueprint, lang, page, staff_page
from functions.console.pages import community_name
from functions.console.texts import CASE_STATUSES, CATEGORIES, label
from functions.services import services
from minqing.domain import geo, workflow
from minqing.store import base, cases, scopes

COLOURS = {"received": "#c62828", "acknowledged": "#ef6c00", "in_progress": "#1565c0", "reopened": "#6a1b9a"}
WIDTH, HEIGHT = 640, 480


@blueprint.get("/staff/map")
@staff_page
def hazard_map():
    at, language = base.now(), lang()
    with services().engine.connect() as connection:
        rows = cases.hazard_points(connection, scopes.scope_clause(g.staff))
    found = []
    for row in rows:
        where = row.location if isinstance(row.location, dict) else {}
        if isinstance(where.get("lat"), (int, float)) and isinstance(where.get("lon"), (int, float)):
            found.append((row, float(where["lat"]), float(where["lon"])))
    placed = geo.fit([(lat, lon) for _, lat, lon in found], WIDTH, HEIGHT)
    points = []
    for (row, lat, lon), (x, y) in zip(found, placed):
        points.append({"id": row.id, "receipt": row.receipt, "x": x, "y": y, "lat": round(lat, 6),
                       "lon": round(lon, 6), "colour": COLOURS.get(row.status, "#555"),
                       "status": label(CASE_STATUSES, row.status, language),
                       "category": label(CATEGORIES, row.category, language),
                       "community": community_name(row.community, language), "code": row.community,
                       "overdue": workflow.is_overdue(row.status, row.due_at, at)})
    areas = {}
    for point in points:
        areas.setdefault(point["community"], []).append((point["x"], point["y"]))
    labels = [{"name": name, "x": sum(p[0] for p in xy) / len(xy), "y": min(p[1] for p in xy) - 10}
              for name, xy in areas.items() if name]
    legend = [(label(CASE_STATUSES, s, language), c) for s, c in COLOURS.items()]
    return page("map.html", points=points, labels=labels, legend=legend, width=WIDTH, height=HEIGHT)
