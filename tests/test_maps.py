"""The console's maps: the GCJ-02 shift against published reference points, the tile settings, the CSP, and
the map and case pages with and without a tile layer (Flask test client). The real path with a local tile
server and Chromium is in tests/test_console_browser.py."""

import math
import re

import pytest

from minqing.domain import geo
from minqing.settings import SettingsError, load_settings
from tests.casework import HAZARD, seed
from tests.test_console import sign_in

# (WGS-84 lat, lon) → (GCJ-02 lat, lon), from googollee/eviltransform's tests (Shanghai, Shenzhen, Beijing)
# and wandergis/coordtransform's example (Beijing, Tiananmen).
VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
]
TILES = {"MINQING_MAP_TILES": "https://t{s}.tiles.example.gov.cn/vec/{z}/{x}/{y}.png?tk=office-key",
         "MINQING_MAP_TILES_SUBDOMAINS": "012", "MINQING_MAP_TILES_CRS": "gcj02",
         "MINQING_MAP_ATTRIBUTION": "© 示例测绘院"}


def metres(a, b) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * math.cos(lat))


@pytest.mark.parametrize("wgs, gcj", VECTORS)
def test_a_wgs84_point_shifts_to_the_published_gcj02_point(wgs, gcj):
    assert geo.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize("wgs, gcj", VECTORS)
def test_the_inverse_comes_back_to_within_a_millimetre(wgs, gcj):
    assert metres(geo.gcj02_to_wgs84(*gcj), wgs) < 0.001


def test_points_outside_china_are_left_alone():
    for point in ((51.5007, -0.1246), (35.6586, 139.7454), (-33.8568, 151.2153)):
        assert geo.wgs84_to_gcj02(*point) == point and geo.gcj02_to_wgs84(*point) == point


def test_a_point_is_converted_from_its_own_system_once():
    wgs = (30.5441, 114.3062)
    gcj = geo.wgs84_to_gcj02(*wgs)
    assert 300 < metres(wgs, gcj) < 700  # a city's usual shift
    assert geo.in_system(*wgs, "wgs84", "gcj02") == gcj
    assert geo.in_system(*wgs, None, "gcj02") == gcj  # no crs: a phone's GPS
    assert geo.in_system(*gcj, "gcj02", "gcj02") == gcj  # already GCJ-02: not shifted again
    assert geo.in_system(*wgs, "wgs84", "wgs84") == wgs
    assert metres(geo.in_system(*gcj, "gcj02", "wgs84"), wgs) < 0.001


def settings_of(tmp_path, **env):
    return load_settings({"MINQING_DATA_DIR": str(tmp_path), "MINQING_SECRET_KEY": "k" * 40, **env})


def test_without_tiles_the_maps_reach_no_other_origin(tmp_path):
    found = settings_of(tmp_path)
    assert (found.map_tiles, found.map_tiles_crs, found.map_tile_origins) == ("", "wgs84", ())


def test_a_tile_template_names_each_subdomain_s_origin(tmp_path):
    found = settings_of(tmp_path, **TILES)
    assert found.map_tiles_crs == "gcj02" and found.map_attribution == "© 示例测绘院"
    assert found.map_tile_origins == ("https://t0.tiles.example.gov.cn", "https://t1.tiles.example.gov.cn",
                                      "https://t2.tiles.example.gov.cn")
    plain = settings_of(tmp_path, MINQING_MAP_TILES="http://127.0.0.1:8080/{z}/{x}/{y}.png",
                        MINQING_MAP_ATTRIBUTION="本街道")
    assert plain.map_tile_origins == ("http://127.0.0.1:8080",)


@pytest.mark.parametrize("env, says", [
    ({"MINQING_MAP_TILES": "ftp://tiles.example/{z}/{x}/{y}.png"}, "http(s) URL"),
    ({"MINQING_MAP_TILES": "https://tiles.example/{z}/{y}.png"}, "{x}"),
    ({"MINQING_MAP_TILES": "https://tiles.example/{z}/{x}/{y}{r}.png"}, "no other placeholder"),
    ({"MINQING_MAP_TILES": "https://tiles.example/{z}/{x}/{y}.png; img-src *"}, "spaces"),
    ({"MINQING_MAP_TILES": "https://{z}.tiles.example/{z}/{x}/{y}.png"}, "plain host"),
    ({"MINQING_MAP_TILES": "https://u:pw@tiles.example/{z}/{x}/{y}.png"}, "password"),
    ({"MINQING_MAP_TILES": "https://tiles.example/{z}/{x}/{y}.png", "MINQING_MAP_ATTRIBUTION": ""}, "licences"),
    ({"MINQING_MAP_TILES_CRS": "bd09"}, "wgs84, gcj02"),
    ({"MINQING_MAP_TILES_SUBDOMAINS": "a,b"}, "letters or digits"),
    ({"MINQING_MAP_ATTRIBUTION": "<script>"}, "plain text"),
])
def test_a_bad_map_setting_stops_the_start_with_what_is_wrong(tmp_path, env, says):
    with pytest.raises(SettingsError, match=re.escape(says)):
        settings_of(tmp_path, **{"MINQING_MAP_ATTRIBUTION": "本街道", **env})


def test_the_page_policy_names_the_tile_origins_only_with_tiles():
    from functions.headers import page_policy

    plain = page_policy(None)
    assert "img-src 'self' blob: data:;" in plain and "style-src 'sha256-" in plain
    tiled = page_policy(None, ("https://t0.tiles.example", "https://t1.tiles.example"))
    assert "img-src 'self' blob: data: https://t0.tiles.example https://t1.tiles.example;" in tiled
    assert "style-src 'self' 'sha256-" in tiled  # the vendored leaflet.css
    assert "'unsafe-inline'" not in plain + tiled
    assert "script-src 'self';" in tiled and "connect-src 'self';" in tiled


@pytest.fixture()
def tiled_client(settings, stub_broker, engine):
    from functions.app import create_app

    tiled = settings._replace(map_tiles=TILES["MINQING_MAP_TILES"], map_tiles_subdomains="012",
                              map_tiles_crs="gcj02", map_attribution="© 示例测绘院")
    app = create_app(tiled, broker=stub_broker)
    app.testing = True
    return app.test_client()


@pytest.fixture()
def two_hazards(runtime, settings, stub_worker):
    """千家街: a phone's WGS-84 report and one from a Chinese map app in GCJ-02."""
    gcj = {**HAZARD[0], "description": "围墙旁井盖缺失。",
           "location": {"address": "千家街12号", "lat": 30.5427, "lon": 114.3101, "crs": "gcj02"}}
    return seed(runtime, settings, ("hazard", HAZARD[0]), ("hazard", gcj))


def svg_points(text) -> dict:
    return {m[1]: (float(m[2]), float(m[3]))
            for m in re.finditer(r'href="/staff/cases/([^"?]+)(?:\?lang=en)?"[^>]*data-lat="([-\d.]+)" data-lon="([-\d.]+)"', text)}


def test_without_tiles_the_map_is_the_plain_svg_and_loads_no_leaflet(client, engine, two_hazards):
    sign_in(client, engine, "qjj-grid")
    page = client.get("/staff/map")
    assert "leaflet" not in page.text and "data-tiles" not in page.text and "staff-map.js" not in page.text
    phone, app_point = two_hazards
    points = svg_points(page.text)
    assert points[phone["id"]] == (30.5441, 114.3062)  # WGS-84 as the phone sent it
    # The map app's GCJ-02 point is drawn in WGS-84 too, back where it is among the others.
    assert metres(points[app_point["id"]], geo.gcj02_to_wgs84(30.5427, 114.3101)) < 0.2
    assert "img-src 'self' blob: data:;" in page.headers["Content-Security-Policy"]


def test_with_tiles_the_map_carries_the_layer_and_points_in_the_tiles_system(tiled_client, engine, two_hazards):
    sign_in(tiled_client, engine, "qjj-grid")
    page = tiled_client.get("/staff/map?lang=en")
    text = page.text
    assert '<link rel="stylesheet" href="/assets/vendor/leaflet/leaflet.css?v=1.9.4">' in text
    assert text.index("/assets/vendor/leaflet/leaflet.js") < text.index("/assets/staff-map.js")
    assert 'data-tiles="https://t{s}.tiles.example.gov.cn/vec/{z}/{x}/{y}.png?tk=office-key"' in text
    assert 'data-attribution="© 示例测绘院"' in text and "<script>" not in text  # no inline script
    phone, app_point = two_hazards
    points = svg_points(text)
    assert metres(points[phone["id"]], geo.wgs84_to_gcj02(30.5441, 114.3062)) < 0.2
    assert points[app_point["id"]] == (30.5427, 114.3101)  # stored in GCJ-02: not shifted twice
    assert text.count('<a class="r" href="/staff/cases/') == 2  # the list of links stays
    policy = page.headers["Content-Security-Policy"]
    assert "https://t0.tiles.example.gov.cn https://t1.tiles.example.gov.cn https://t2.tiles.example.gov.cn" in policy


def test_the_case_page_shows_a_small_map_of_where_it_is(client, tiled_client, engine, two_hazards, runtime,
                                                        settings):
    phone, app_point = two_hazards
    [no_position] = seed(runtime, settings, ("hazard", {**HAZARD[0], "location": {"address": "千家街"}}))
    sign_in(client, engine, "qjj-grid")
    plain = client.get(f"/staff/cases/{phone['id']}").text
    assert '<svg id="case-map"' in plain and 'id="case-here"' in plain and "leaflet" not in plain
    assert f'href="/staff/cases/{app_point["id"]}"' in plain  # the community's other open hazard
    assert "红圈为本事项" in plain
    sign_in(tiled_client, engine, "qjj-grid")
    tiled = tiled_client.get(f"/staff/cases/{phone['id']}").text
    # Over the tiles as plain images in an SVG: no script, no Leaflet, nothing needing JavaScript.
    assert '<div class="tilebox" id="case-map"' in tiled and "leaflet" not in tiled and "staff-map.js" not in tiled
    here = geo.wgs84_to_gcj02(30.5441, 114.3062)
    z, x, y = 17, *(int(p // 256) for p in geo.world_pixel(*here, 17))
    assert f'<image href="https://t{(x + y) % 3}.tiles.example.gov.cn/vec/{z}/{x}/{y}.png?tk=office-key"' in tiled
    centre = re.search(r'id="case-map"[^>]*data-lat="([-\d.]+)" data-lon="([-\d.]+)"', tiled)
    assert metres((float(centre[1]), float(centre[2])), here) < 0.2
    # The map app's point, about 350 m off, falls outside the 320×200 px window at this zoom.
    assert f'href="/staff/cases/{app_point["id"]}"' not in tiled.split('id="case-map"')[1].split("</div>")[0]
    assert "© 示例测绘院" in tiled
    elsewhere = tiled_client.get(f"/staff/cases/{no_position['id']}")
    assert elsewhere.status_code == 200 and 'id="case-map"' not in elsewhere.text


def test_the_tile_window_centres_the_point():
    lat, lon = 30.5417, 114.3116
    window = geo.tile_window(lat, lon, 17, 320, 200)
    cx, cy = geo.world_pixel(lat, lon, 17)
    assert {(x, y) for x, y, _, _ in window} == {(int((cx + dx) // 256), int((cy + dy) // 256))
                                                 for dx in (-160, 0, 159) for dy in (-100, 0, 99)}
    for x, y, left, top in window:
        assert abs(left - (x * 256 - cx)) <= 0.5 and abs(top - (y * 256 - cy)) <= 0.5
    assert geo.offset(lat, lon, (lat, lon), 17) == (0, 0)


def test_leaflet_travels_gzipped_and_is_kept_a_year(client):
    answer = client.get("/assets/vendor/leaflet/leaflet.js?v=1.9.4", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "gzip"
    assert len(answer.data) < 45_000  # of 147,552 bytes
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/staff.js").headers.get("Cache-Control") != "public, max-age=31536000, immutable"


def test_the_wheel_ships_the_vendored_leaflet_with_its_licence():
    import tomllib
    from pathlib import Path

    root = Path(__file__).parent.parent
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    vendored = root / "functions/static/vendor/leaflet"
    for name in ("leaflet.js", "leaflet.css", "LICENSE"):
        assert (vendored / name).exists() and any(Path(name).match(p) for p in patterns), name
    assert "Leaflet 1.9.4" in (vendored / "leaflet.js").read_text()[:200]
