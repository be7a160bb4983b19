"""Security, through the real path: one-tap links act only for someone who still answers
for the case, a group robot's link says whose name it acts under, channels follow no redirects, and every
HTML page carries the same Content-Security-Policy."""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from minqing.testing.live import LiveServer, free_port
from tests.conftest import wait_until
from minqing.testing.peers import directory_toml, peer_env  # noqa: F401 - fixtures
from tests.peers import robot_server, smtp_server
from tests.test_notify_integration import robot_links
from tests.test_pipeline import HAZARD

pytestmark = pytest.mark.integration
LIGHTING = dict(HAZARD[0], category="lighting")  # the grid worker alone, reached by the WeCom group robot
BOTH = pytest.mark.parametrize("backend_env", ["embedded", "redis+postgres"], indirect=True)
EMBEDDED = pytest.mark.parametrize("backend_env", ["embedded"], indirect=True)


@pytest.fixture()
def street_env(backend_env, robot_server, smtp_server, tmp_path):
    path = tmp_path / "directory.toml"
    path.write_text(directory_toml())
    return {**backend_env, **peer_env(robot_server, smtp_server), "MINQING_DIRECTORY": str(path)}


@pytest.fixture()
def server(street_env, tmp_path):
    live = LiveServer(street_env, tmp_path)
    yield live
    live.stop()


def minqing(server, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "minqing", *args], env=server.env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def token_of(server, staff_id: str) -> str:
    return minqing(server, "token", "create", "--staff", staff_id).splitlines()[0].strip()


def reported(server, robot_server) -> tuple[str, list[str]]:
    """A lighting hazard in 千家街: its receipt and the grid worker's one-tap links (acknowledge, resolve)."""
    receipt = server.post("/api/v1/hazard-reports", json=LIGHTING).json()["receipt"]
    [notice] = wait_until(lambda: robot_server.at("/wecom/grid"))
    return receipt, robot_links(notice)


def status_of(server, receipt: str) -> str:
    return server.get(f"/api/v1/receipts/{receipt}").json()["status"]


def refused_both_ways(url: str, status: int, words: str):
    page = requests.get(url, timeout=15)
    assert page.status_code == status and words in page.text and "未做任何更改" in page.text
    assert "<form" not in page.text  # the confirm page already says no, with nothing to press
    done = requests.post(url, timeout=15)
    assert done.status_code == status and words in done.text and "未做任何更改" in done.text
    english = requests.post(url + "?lang=en", timeout=15)
    assert english.status_code == status and "Nothing was changed" in english.text


# 1. One-tap links act only for someone who still answers for the case.

@BOTH
def test_a_link_is_refused_once_the_case_is_reassigned_away(server, robot_server):
    receipt, (acknowledge, _) = reported(server, robot_server)
    leader = {"Authorization": f"Bearer {token_of(server, 'street-leader')}"}
    [case] = wait_until(lambda: server.get("/api/v1/cases", headers=leader).json()["items"])
    moved = server.post(f"/api/v1/cases/{case['id']}/actions", headers=leader,
                        json={"action": "assign", "assignees": ["qjj-secretary"], "note": "改由书记办理"})
    assert moved.status_code == 200, moved.text
    refused_both_ways(acknowledge, 409, "已不再负责")
    assert status_of(server, receipt) == "received"
    history = server.get(f"/api/v1/cases/{case['id']}", headers=leader).json()["history"]
    assert [step["actor"] for step in history] == ["system", "street-leader"]


@BOTH
def test_a_link_is_refused_once_its_staff_members_tokens_are_revoked(server, robot_server):
    receipt, (acknowledge, _) = reported(server, robot_server)
    token = token_of(server, "qjj-grid")
    assert server.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    minqing(server, "token", "revoke", token)
    refused_both_ways(acknowledge, 403, "已被停用")
    assert status_of(server, receipt) == "received"


@EMBEDDED
def test_a_link_is_refused_once_its_staff_member_left_the_directory(street_env, robot_server, tmp_path):
    first = LiveServer(street_env, tmp_path)
    try:
        receipt, (acknowledge, _) = reported(first, robot_server)
    finally:
        first.stop()
    # The grid worker leaves: the secretary takes the community's cases and its place in the chain.
    without = tmp_path / "without-grid.toml"
    text = directory_toml().replace('chain = ["qjj-grid", "qjj-secretary", "street-leader"]',
                                    'chain = ["qjj-secretary", "street-leader"]')
    text = text.replace('assignees = ["qjj-grid"]', 'assignees = ["qjj-secretary"]')
    start = text.index('[[staff]]\nid = "qjj-grid"')
    without.write_text(text[:start] + text[text.index("[[staff]]", start + 1):])
    second = LiveServer(dict(street_env, MINQING_DIRECTORY=str(without)), tmp_path)
    try:
        url = second.url + "/a/" + acknowledge.rsplit("/", 1)[1]
        refused_both_ways(url, 403, "不在人员名录中")
        assert status_of(second, receipt) == "received"
    finally:
        second.stop()


@BOTH
def test_a_group_robots_link_names_who_acts_and_the_history_records_the_group(server, robot_server):
    receipt, (acknowledge, _) = reported(server, robot_server)
    page = requests.get(acknowledge, timeout=15)
    assert page.status_code == 200 and "<form" in page.text
    assert "王网格员" in page.text and "wecom-group:TEST_WECOM_GRID" in page.text and "群里任何人" in page.text
    english = requests.get(acknowledge + "?lang=en", timeout=15)
    assert "acting as" in english.text and "王网格员" in english.text
    done = requests.post(acknowledge, timeout=15)
    assert done.status_code == 200 and "王网格员" in done.text
    leader = {"Authorization": f"Bearer {token_of(server, 'street-leader')}"}
    [case] = server.get("/api/v1/cases", headers=leader).json()["items"]
    step = server.get(f"/api/v1/cases/{case['id']}", headers=leader).json()["history"][-1]
    assert (step["status"], step["actor"]) == ("acknowledged", "qjj-grid")
    assert step["details"]["via"] == "wecom-group:TEST_WECOM_GRID" and "wecom-group:TEST_WECOM_GRID" in step["note"]
    assert status_of(server, receipt) == "acknowledged"


@EMBEDDED
def test_a_personal_link_records_no_group(server, robot_server, smtp_server):
    structure = dict(HAZARD[0], category="structure")  # the safety office too, by e-mail alone
    server.post("/api/v1/hazard-reports", json=structure)
    [mail] = wait_until(lambda: [m for m in smtp_server.parsed() if "safety@" in str(m["To"])])
    import re

    acknowledge = re.findall(r'href="([^"]+/a/[^"]+)"', mail.get_body(("html",)).get_content())[0]
    page = requests.get(acknowledge, timeout=15)
    assert "街道安全办" in page.text and "群里任何人" not in page.text
    assert requests.post(acknowledge, timeout=15).status_code == 200
    leader = {"Authorization": f"Bearer {token_of(server, 'street-leader')}"}
    [case] = server.get("/api/v1/cases", headers=leader).json()["items"]
    step = server.get(f"/api/v1/cases/{case['id']}", headers=leader).json()["history"][-1]
    assert step["actor"] == "safety-office" and "via" not in step["details"]


def test_only_an_administrators_revocation_stops_someones_links(engine):
    from datetime import timedelta

    from sqlalchemy import update

    from minqing.store import tokens
    from minqing.store.tables import staff_tokens

    with engine.begin() as connection:
        assert not tokens.staff_revoked(connection, "qjj-grid")  # never given a token
        lapsed = tokens.create(connection, "qjj-grid")
        connection.execute(update(staff_tokens).where(staff_tokens.c.id == lapsed.id)
                           .values(expires_at=lapsed.expires_at - timedelta(days=400)))
        assert not tokens.staff_revoked(connection, "qjj-grid")  # it only ran out
        tokens.revoke(connection, lapsed.id)
        assert tokens.staff_revoked(connection, "qjj-grid")
        tokens.create(connection, "qjj-grid")
        assert not tokens.staff_revoked(connection, "qjj-grid")  # a new token lifts it


def test_a_link_signed_before_groups_were_told_apart_still_verifies():
    from itsdangerous import URLSafeSerializer

    from minqing import links

    old = URLSafeSerializer("s", salt="minqing.one-tap.v1").dumps(["case-1", "qjj-grid", "resolve", 2**40])
    assert links.verify("s", old).via == ""
    assert links.verify("s", links.sign("s", "case-1", "qjj-grid", "resolve", 60, via="wecom-group:G")).via \
        == "wecom-group:G"


# 2. Channels follow no redirects.

class Recorder:
    """A local HTTP server that records every request; with `redirect_to`, it answers 302 to there."""

    def __init__(self, redirect_to: str | None = None):
        self.hits: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                peer.hits.append(self.path)
                if peer.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", peer.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any

        self.redirect_to = redirect_to
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def redirected_robot():
    # 127.0.0.1 and localhost: another host, as far as a URL goes.
    elsewhere = Recorder()
    redirector = Recorder(redirect_to=elsewhere.url.replace("127.0.0.1", "localhost"))
    yield redirector, elsewhere
    redirector.stop()
    elsewhere.stop()


@EMBEDDED
def test_a_robot_that_redirects_elsewhere_is_a_failed_delivery_not_followed(street_env, redirected_robot,
                                                                            smtp_server, tmp_path):
    redirector, elsewhere = redirected_robot
    env = dict(street_env, TEST_WECOM_GRID=f"{redirector.url}/wecom/grid?key=wecom-robot-key",
               MINQING_NOTIFY_MAX_RETRIES="1")
    server = LiveServer(env, tmp_path)
    try:
        receipt = server.post("/api/v1/hazard-reports", json=LIGHTING).json()["receipt"]
        # The robot failed, so the grid worker's next channel, e-mail, carries the notice.
        wait_until(lambda: [m for m in smtp_server.parsed() if receipt in m["Subject"]], timeout=60)
        assert redirector.hits and elsewhere.hits == []
    finally:
        server.stop()


@pytest.mark.parametrize("same_host", [False, True], ids=["other-host", "same-host"])
def test_posting_to_a_redirect_fails_with_a_clear_error(redirected_robot, same_host):
    from workers.channels.http import ChannelError, post_json

    redirector, elsewhere = redirected_robot
    if same_host:
        redirector.redirect_to = redirector.url + "/moved"
    with pytest.raises(ChannelError, match="redirect.*not followed"):
        post_json(redirector.url + "/hook?key=secret", {"a": 1}, timeout=5)
    assert elsewhere.hits == [] and redirector.hits == ["/hook?key=secret"]


# 3. Every HTML page carries the same Content-Security-Policy.

def html_pages(server, robot_server) -> dict[str, str]:
    receipt, (acknowledge, _) = reported(server, robot_server)
    return {
        "form": server.url + "/f/hazard",
        "thanks": f"{server.url}/thanks/{receipt}",
        "status": f"{server.url}/r/{receipt}",
        "dashboard": server.url + "/dashboard",
        "docs": server.url + "/api/v1/docs",
        "one-tap confirm": acknowledge,
        "one-tap refused": server.url + "/a/not-a-link",
    }


@EMBEDDED
def test_every_html_page_forbids_framing_with_one_policy(server, robot_server):
    policies = {}
    for name, url in html_pages(server, robot_server).items():
        page = requests.get(url, timeout=15)
        assert page.headers["Content-Type"].startswith("text/html"), name
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"], name
        assert page.headers["X-Content-Type-Options"] == "nosniff", name
        assert page.headers["Referrer-Policy"], name
        policies[name] = page.headers["Content-Security-Policy"]
    assert len(set(policies.values())) == 1, policies


@EMBEDDED
def test_every_html_page_renders_without_csp_violations(server, robot_server, browser):
    pages = html_pages(server, robot_server)
    context = browser.new_context(locale="zh-CN")
    try:
        for name, url in pages.items():
            page = context.new_page()
            complaints = []
            page.on("console", lambda message: complaints.append(message.text))
            page.goto(url, wait_until="load")
            time.sleep(0.2)  # violations are reported just after load
            assert not [c for c in complaints if "Content Security Policy" in c], (name, complaints)
            # The inline styles applied: the body is no longer the browser's default 8px margin.
            assert page.evaluate("getComputedStyle(document.body).margin") != "8px", name
            page.close()
    finally:
        context.close()


def test_the_pages_styles_are_their_own_stylesheets_allowed_by_hash_and_no_element_has_a_style_attribute():
    import re

    from functions.headers import TEMPLATES, page_policy

    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        # A style attribute needs 'unsafe-inline' (or 'unsafe-hashes'); a stylesheet with template code in
        # it would be sent otherwise than the source its hash is taken from.
        assert not re.search(r"\sstyle=", text), path
        for sheet in re.findall(r"<style>(.*?)</style>", text, re.S):
            assert not any(mark in sheet for mark in ("{{", "{%", "{#")), path
    for policy in (page_policy(None), page_policy(None, ("https://t0.tiles.example",))):
        assert "'unsafe-inline'" not in policy and "'unsafe-hashes'" not in policy
        assert re.search(r"style-src ('self' )?('sha256-[A-Za-z0-9+/=]+' ?)+;", policy), policy
