"""The loop closes, in the system Chromium against `minqing serve` over HTTP: a resident goes from the front
page to the form (asking to be told), staff acknowledge and resolve with an after-photo through the API, the
reporter's e-mail arrives at a real SMTP server (aiosmtpd), its link opens the status page with the rating
form, "not fixed" reopens the case; the public list shows the resident's words only once staff publish them."""

import re

import pytest
import requests

from minqing.store import tokens
from minqing.store.engine import make_engine
from minqing.testing.live import LiveServer
from tests.conftest import ARTIFACTS, WECHAT_UA, backend_settings, wait_until
from tests.peers import smtp_server  # noqa: F401 - fixture
from tests.photos import phone_jpeg

pytestmark = pytest.mark.integration
STATUS_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/r/[0-9A-Z-]+\?k=[0-9A-Z]+)")


@pytest.fixture(params=["embedded", "redis+postgres"])
def server(request, base_env, smtp_server, tmp_path):
    env = {**backend_settings(request, request.param, base_env), **smtp_server.env()}
    live = LiveServer(env, tmp_path)
    yield live
    live.stop()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 640}, user_agent=WECHAT_UA, locale="zh-CN",
                                  java_script_enabled=False, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def staff_token(server, staff_id: str) -> dict:
    url = server.env.get("MINQING_DATABASE_URL") or f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return {"Authorization": "Bearer " + tokens.create(connection, staff_id).token}
    finally:
        engine.dispose()


def case_id_of(server, staff, receipt: str) -> str:
    def found():
        items = server.get(f"/api/v1/cases?q={receipt}", headers=staff).json()["items"]
        return items and items[0]["id"]
    return wait_until(found, timeout=30)


def after_photo(server) -> str:
    issued = server.post("/api/v1/attachments", json={"content_type": "image/jpeg"}).json()
    upload = requests.post(issued["upload"]["url"] if issued["upload"]["url"].startswith("http")
                           else server.url + issued["upload"]["url"], data=issued["upload"]["fields"],
                           files={"file": ("after.jpg", phone_jpeg(800, 600), "image/jpeg")}, timeout=15)
    assert upload.status_code in (200, 201, 204), upload.text
    return issued["key"]


def act(server, staff, case_id, **body):
    response = server.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=staff)
    assert response.status_code == 200, response.text
    return response.json()


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_resident_sees_the_loop_close(server, page, smtp_server):
    page.goto(server.url + "/")
    assert "首义路街道" in page.text_content("h1")
    shoot(page, "public-home")
    page.click('a[href="/f/hazard"]')
    page.select_option("#f-community", "qianjiajie")
    page.select_option("#f-category", "structure")
    page.fill("#f-location-address", "千家街省一保小区3栋北侧")
    page.fill("#f-description", "围墙出现裂缝，王阿姨家门口，电话13871234567。")
    page.fill("#f-contact-name", "王阿姨")
    page.fill("#f-contact-email", "wang.ayi@example.com")
    page.check("#f-contact-notify")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks/**")
    receipt = page.text_content("#receipt")

    staff = staff_token(server, "qjj-grid")
    case_id = case_id_of(server, staff, receipt)
    act(server, staff, case_id, action="acknowledge", reply="已收到，明天上午到现场查看。")
    page.click(f'a[href="/r/{receipt}"]')
    assert "明天上午到现场查看" in page.text_content("#history")
    [told] = wait_until(lambda: smtp_server.parsed(), timeout=30)
    assert "<wang.ayi@example.com>" in told["To"] and receipt in told["Subject"]
    act(server, staff, case_id, action="resolve", reply="已加固围墙。", photos=[after_photo(server)])
    wait_until(lambda: len(smtp_server.messages) == 2, timeout=30)
    resolved = smtp_server.parsed()[1]
    text = resolved.get_body(("plain",)).get_content()
    assert "已办结" in resolved["Subject"] and "已加固围墙" in text
    link = STATUS_LINK.search(text).group(1)

    # The link from the message: the code becomes a cookie and the URL loses it.
    page.goto(link)
    assert page.url == f"{server.url}/r/{receipt}"
    wait_until(lambda: page.reload() and page.locator("#history img").count() == 1, timeout=30)
    assert page.evaluate("document.querySelector('#history img').naturalWidth") > 0
    assert "王阿姨" not in page.text_content("main") and "13871234567" not in page.content()
    shoot(page, "public-status-resolved")
    page.check('input[name=rating][value="2"]')
    page.check("#fixed-no")
    page.fill("#f-comment", "裂缝还在。")
    page.click("#rate button[type=submit]")
    page.wait_for_url("**done=reopened**")
    assert "重新办理" in page.text_content("#status")
    shoot(page, "public-status-reopened")
    totals = wait_until(lambda: server.get("/api/v1/tallies").json()["totals"]["hazard"])
    assert totals["rated"] == 1 and totals["reopened"] == 1

    # The public list: category, community and rough place, and the resident's words only once published.
    page.goto(server.url + "/problems")
    item = page.locator(f'[data-receipt="{receipt}"]').text_content()
    assert "千家街省一保小区" in item and "3栋" not in item and "围墙出现裂缝" not in item
    act(server, staff, case_id, action="publish", public_text="围墙出现裂缝。")
    page.reload()
    item = page.locator(f'[data-receipt="{receipt}"]').text_content()
    assert "围墙出现裂缝。" in item and "王阿姨" not in item
    shoot(page, "public-problems")
