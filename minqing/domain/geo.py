"""Positions for the console's map: fitting (lat, lon) points into a plain SVG box (pure)."""

from __future__ import annotations

import math

def fit(points: list[tuple[float, float]], width: int, height: int, margin: int = 16) -> list[tuple[float, float]]:
    """(x, y) in a width×height box for (lat, lon) points, north up, the same scale both ways."""
    if not points:
        return []
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    mid = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * mid, 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
    cx, cy = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    return [(round(width / 2 + (lon - cx) * mid * scale, 1), round(height / 2 - (lat - cy) * scale, 1))
            for lat, lon in points]
