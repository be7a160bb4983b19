"""A patrol round with no network, for real: the system Chromium with the patrol form's service worker,
against `minqing serve` over HTTP. Findings filed offline wait on the phone (IndexedDB) and reach the office
once each when the network returns."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from minqing.store.engine import make_engine
from minqing.store.tables import attachments, submissions
from minqing.testing.live import LiveServer
from tests.conftest import CHROMIUM_ARGS, WECHAT_UA, wait_until
from tests.photos import phone_jpeg
from tests.test_browser import env_for

pytestmark = pytest.mark.integration

PATROL = "/f/hazard?mode=patrol&c=jiangling"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = LiveServer(env_for(tmp_path_factory), tmp_path_factory.mktemp("logs"))
    yield server
    server.stop()


def volunteer_phone(browser, **options):
    context = browser.new_context(viewport={"width": 360, "height": 640}, user_agent=WECHAT_UA, locale="zh-CN",
                                  device_scale_factor=2, is_mobile=True, has_touch=True, **options)
    context.set_default_timeout(20_000)
    return context


def stored_findings(server, marker: str):
    """(description, number of photos stored) of each stored submission whose description has `marker`."""
    engine = make_engine(f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db")
    try:
        with engine.connect() as c:
            rows = c.execute(select(submissions.c.id, submissions.c.payload)
                             .where(submissions.c.payload["description"].as_string().contains(marker))).all()
            return sorted((row.payload["description"], len(row.payload.get("photos", [])),
                           c.execute(select(func.count()).select_from(attachments)
                                     .where(attachments.c.submission_id == row.id)).scalar_one())
                          for row in rows)
    finally:
        engine.dispose()


def file_finding(page, text: str, photo: bytes | None = None):
    page.select_option("#f-category", "fire_safety")
    page.fill("#f-location-address", "江零社区5栋地下室")
    page.fill("#f-description", text)
    if photo:
        page.set_input_files("#f-photos", files=[{"name": "IMG.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.click("button[type=submit]")


def shows_waiting(page, count: int, timeout: float = 20_000):
    expect(page.locator("#outbox-count")).to_have_text(f"{count} 条待发送", timeout=timeout)


def waiting(page) -> str:
    return page.text_content("#outbox-count")


def test_a_round_walked_offline_reaches_the_office_once_each(browser, server):
    marker = uuid.uuid4().hex[:8]
    context = volunteer_phone(browser)
    page = context.new_page()
    page.goto(server.url + PATROL)
    page.fill("#f-patrol-team", "江零一队")
    page.fill("#f-patrol-volunteer_id", "V-001")
    page.wait_for_selector("#outbox-ready", state="visible")  # the worker keeps the form: it opens offline
    shoot_page(page, "patrol-form-online")

    context.set_offline(True)
    for n in range(3):
        file_finding(page, f"{marker} 楼道堆放电动车电池 {n}", phone_jpeg(2400, 1800))
        shows_waiting(page, n + 1)
        assert page.input_value("#f-patrol-team") == "江零一队"  # the next finding starts with the same volunteer
    assert "已保存在手机上，联网后自动发送" in page.text_content("#outbox-state")
    shoot_page(page, "patrol-form-offline")

    page.reload()  # offline: from the worker's cache
    assert page.input_value("#f-patrol-volunteer_id") == "V-001"
    shows_waiting(page, 3)
    page.close()
    page = context.new_page()
    page.goto(server.url + PATROL)
    shows_waiting(page, 3)
    assert stored_findings(server, marker) == []

    context.set_offline(False)
    shows_waiting(page, 0, timeout=60_000)
    expected = [(f"{marker} 楼道堆放电动车电池 {n}", 1, 1) for n in range(3)]
    wait_until(lambda: stored_findings(server, marker) == expected, timeout=30)
    assert waiting(page) == "0 条待发送"
    shoot_page(page, "patrol-form-sent")
    context.close()


def test_a_finding_stored_before_its_post_timed_out_is_sent_again_and_stored_once(browser, server):
    marker = uuid.uuid4().hex[:8]
    # Request interception does not see a service worker's requests: this phone runs without one, which
    # also shows the outbox working on its own.
    context = volunteer_phone(browser, service_workers="block")
    page = context.new_page()
    posts = []

    def lose_the_answer(route):
        posts.append(route.request.url)
        if len(posts) == 1:
            route.fetch()  # the server has it…
            route.abort("timedout")  # …and the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/hazard-reports**", lose_the_answer)
    page.goto(server.url + PATROL)
    page.fill("#f-patrol-team", "江零一队")
    page.fill("#f-patrol-volunteer_id", "V-002")
    file_finding(page, f"{marker} 消防通道被占用")
    shows_waiting(page, 1)
    wait_until(lambda: stored_findings(server, marker) == [(f"{marker} 消防通道被占用", 0, 0)])

    page.reload()  # every load sends what is waiting
    shows_waiting(page, 0)
    assert len(posts) == 2
    assert "回执码" in page.text_content("#outbox-state")
    assert stored_findings(server, marker) == [(f"{marker} 消防通道被占用", 0, 0)]
    context.close()


def shoot_page(page, name):
    from tests.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_patrol_form_with_its_worker_stays_inside_the_weight_budget(browser, server):
    context = volunteer_phone(browser, service_workers="block")
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(server.url + PATROL, wait_until="load")
    bodies = sum(r.sizes()["responseBodySize"] for r in finished)
    worker = server.get("/f/patrol-sw.js", stream=True)  # the worker script counts too
    worker = len(worker.raw.read())  # as sent (gzipped), like the page's own requests
    print(f"\npatrol form: {len(finished)} requests, {bodies} bytes of bodies + {worker} bytes of worker")
    assert bodies + worker < 20 * 1024
    context.close()


@pytest.mark.parametrize("script", ["/assets/patrol.js", "/f/patrol-sw.js"])
def test_a_phone_revalidating_a_gzipped_script_gets_a_304_not_the_script_again(server, script):
    zipped = {"Accept-Encoding": "gzip"}
    first = server.get(script, headers=zipped)
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    again = server.get(script, headers={**zipped, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    plain = server.get(script, headers={"Accept-Encoding": "identity", "If-None-Match": first.headers["ETag"]})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers  # the other body's tag
