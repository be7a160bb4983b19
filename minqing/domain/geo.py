"""Positions for the console's maps (pure): fitting (lat, lon) points into a plain SVG box, and the
GCJ-02 datum shift (国测局坐标, "Mars coordinates") that Chinese commercial tile services are drawn in.

Phones report WGS-84; AutoNavi (高德) and Tencent tiles are GCJ-02, about 300–600 m away from WGS-84 in a
city; Tianditu (天地图) is CGCS2000, within centimetres of WGS-84. A point is shown in the tiles' system.
"""

from __future__ import annotations

import math

WGS84, GCJ02 = "wgs84", "gcj02"

# The published GCJ-02 parameters: the Krasovsky 1940 ellipsoid's semi-major axis and first eccentricity².
_A = 6378245.0
_EE = 0.00669342162296594323


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


def outside_china(lat: float, lon: float) -> bool:
    """Outside the published rough box around China, where GCJ-02 applies no shift. It is a box: some
    neighbours' cities (Hanoi, Seoul) fall inside it and are shifted too."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (lat, lon)."""
    x, y = lon - 105.0, lat - 35.0
    waves = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    north = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + waves
    north += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    north += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    east = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + waves
    east += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    east += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    # The shifts above are metres on the ellipsoid: to degrees by the meridian and parallel radii there.
    phi = math.radians(lat)
    w = 1.0 - _EE * math.sin(phi) ** 2
    meridian = _A * (1.0 - _EE) / (w * math.sqrt(w))
    parallel = _A / math.sqrt(w) * math.cos(phi)
    return north * 180.0 / (meridian * math.pi), east * 180.0 / (parallel * math.pi)


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """A WGS-84 point in GCJ-02; outside China unchanged."""
    if outside_china(lat, lon):
        return lat, lon
    d_lat, d_lon = _shift(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """A GCJ-02 point in WGS-84, by fixed-point iteration of the forward shift (no closed form exists);
    converges to well under a millimetre in a few steps because the shift varies slowly."""
    if outside_china(lat, lon):
        return lat, lon
    guess_lat, guess_lon = lat, lon
    for _ in range(30):
        there_lat, there_lon = wgs84_to_gcj02(guess_lat, guess_lon)
        miss_lat, miss_lon = there_lat - lat, there_lon - lon
        guess_lat, guess_lon = guess_lat - miss_lat, guess_lon - miss_lon
        if abs(miss_lat) < 1e-10 and abs(miss_lon) < 1e-10:
            break
    return guess_lat, guess_lon


def in_system(lat: float, lon: float, stored: str | None, wanted: str) -> tuple[float, float]:
    """A point stored in `stored` (the form's `location.crs`; WGS-84 when absent, as phones report it)
    expressed in `wanted`: converted once, or not at all when the two already agree."""
    stored = stored if stored in (WGS84, GCJ02) else WGS84
    if stored == wanted:
        return lat, lon
    return wgs84_to_gcj02(lat, lon) if wanted == GCJ02 else gcj02_to_wgs84(lat, lon)


TILE = 256  # pixels a side of a Web Mercator tile (XYZ numbering, as Leaflet and tile servers use)


def world_pixel(lat: float, lon: float, z: int) -> tuple[float, float]:
    """A point's pixel on the Web Mercator world map at zoom `z` (2^z tiles a side)."""
    size = TILE * 2 ** z
    phi = math.radians(max(min(lat, 85.05112878), -85.05112878))
    return (lon + 180.0) / 360.0 * size, (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * size


def tile_window(lat: float, lon: float, z: int, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The tiles covering a width×height window centred on a point, as (x, y, left, top): each tile's
    number and its top-left corner's offset from the window's centre in pixels."""
    cx, cy = world_pixel(lat, lon, z)
    left, top = cx - width / 2, cy - height / 2
    last = 2 ** z - 1
    return [(x, y, round(x * TILE - cx), round(y * TILE - cy))
            for y in range(max(int(top // TILE), 0), min(int((top + height) // TILE), last) + 1)
            for x in range(max(int(left // TILE), 0), min(int((left + width) // TILE), last) + 1)]


def offset(lat: float, lon: float, centre: tuple[float, float], z: int) -> tuple[int, int]:
    """Where a point falls, in pixels from `centre` (lat, lon), at zoom `z`."""
    x, y = world_pixel(lat, lon, z)
    cx, cy = world_pixel(*centre, z)
    return round(x - cx), round(y - cy)
