"""Through the real path: `minqing serve` over HTTP → queue → workers → real WeCom/SMTP/DingTalk/webhook
peers, then one-tap links followed over HTTP."""

import re
import subprocess
import sys
import time

import pytest
import requests

from minqing import links
from minqing.testing.live import LiveServer
from tests.conftest import wait_until
from tests.peers import aws_server, robot_server, smtp_server  # noqa: F401 - fixtures
from minqing.testing.peers import aws_directory_toml, directory_toml, peer_env
from tests.test_pipeline import HAZARD

pytestmark = pytest.mark.integration
LINK = re.compile(r"\((http://127\.0\.0\.1:\d+/a/[^)\s]+)\)")


@pytest.fixture()
def notify_server_env(backend_env, robot_server, smtp_server, tmp_path):
    path = tmp_path / "directory.toml"
    path.write_text(directory_toml())
    return {**backend_env, **peer_env(robot_server, smtp_server), "MINQING_DIRECTORY": str(path)}


def robot_links(message) -> list[str]:
    return LINK.findall(message["json"].get("markdown", {}).get("content") or message["json"]["markdown"]["text"])


def test_staff_are_notified_and_act_with_one_tap(notify_server_env, robot_server, smtp_server, tmp_path):
    server = LiveServer(notify_server_env, tmp_path)
    try:
        receipt = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()["receipt"]
        [wecom] = wait_until(lambda: robot_server.at("/wecom/grid"))
        wait_until(lambda: smtp_server.messages)
        assert receipt in wecom["json"]["markdown"]["content"]
        assert "13871234567" not in wecom["json"]["markdown"]["content"]  # a group robot: masked
        [mail] = smtp_server.parsed()
        assert receipt in mail["Subject"] and "13871234567" in mail.get_body(("plain",)).get_content()

        acknowledge, _ = robot_links(wecom)
        page = requests.get(acknowledge, timeout=15)
        assert page.status_code == 200 and "<form" in page.text and "确认受理" in page.text
        assert server.get(f"/api/v1/receipts/{receipt}").json()["status"] == "received"  # GET changed nothing
        done = requests.post(acknowledge, timeout=15)
        assert done.status_code == 200 and "已完成" in done.text
        assert server.get(f"/api/v1/receipts/{receipt}").json()["status"] == "acknowledged"
        assert requests.post(acknowledge, timeout=15).status_code == 409  # replayed: used once

        resolve = re.findall(r'href="([^"]+/a/[^"]+)"', mail.get_body(("html",)).get_content())[1]
        assert requests.post(resolve, timeout=15).status_code == 200
        status = server.get(f"/api/v1/receipts/{receipt}").json()
        assert [h["status"] for h in status["history"]] == ["received", "acknowledged", "resolved"]
        totals = wait_until(lambda: (t := server.get("/api/v1/tallies").json()["totals"]["hazard"]).get("resolved") and t)
        assert (totals["received"], totals["acknowledged"], totals["resolved"]) == (1, 1, 1)
    finally:
        server.stop()


@pytest.mark.parametrize("backend_env", ["embedded"], indirect=True)
def test_tampered_and_expired_links_change_nothing(notify_server_env, robot_server, tmp_path):
    server = LiveServer(notify_server_env, tmp_path)
    try:
        receipt = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()["receipt"]
        [wecom] = wait_until(lambda: robot_server.at("/wecom/grid"))
        acknowledge, resolve = robot_links(wecom)
        grant = links.verify(notify_server_env["MINQING_SECRET_KEY"], acknowledge.rsplit("/", 1)[1])
        expired = links.sign(notify_server_env["MINQING_SECRET_KEY"], grant.submission_id, grant.staff_id,
                             "resolve", -1)
        tampered = resolve.rsplit(".", 1)[0] + "." + acknowledge.rsplit(".", 1)[1]
        for url, status, words in ((tampered, 403, "链接无效"), (f"{server.url}/a/{expired}", 410, "已过期")):
            for method in (requests.get, requests.post):
                answer = method(url, timeout=15)
                assert answer.status_code == status and words in answer.text and "未做任何更改" in answer.text
        english = requests.post(f"{server.url}/a/{expired}?lang=en", timeout=15)
        assert "expired" in english.text
        assert server.get(f"/api/v1/receipts/{receipt}").json()["status"] == "received"
    finally:
        server.stop()


@pytest.mark.parametrize("backend_env", ["embedded"], indirect=True)
def test_escalation_goes_up_the_chain_once_and_stops_after_acknowledgement(notify_server_env, robot_server, tmp_path):
    server = LiveServer(dict(notify_server_env, MINQING_SLA_SECONDS="2"), tmp_path)
    try:
        lighting = dict(HAZARD[0], category="lighting")
        receipt = server.post("/api/v1/hazard-reports", json=lighting).json()["receipt"]
        [escalation] = wait_until(lambda: robot_server.at("/dingtalk/qjj"), timeout=30)
        assert "超过时限" in escalation["json"]["markdown"]["text"]
        acknowledge, _ = robot_links(escalation)  # the secretary acts on it
        assert requests.post(acknowledge, timeout=15).status_code == 200
        time.sleep(6)  # three more SLA periods
        assert len(robot_server.at("/dingtalk/qjj")) == 1 and robot_server.at("/hook/leader") == []
        history = server.get(f"/api/v1/receipts/{receipt}").json()["history"]
        assert [h["status"] for h in history] == ["received", "acknowledged"]
    finally:
        server.stop()


@pytest.fixture()
def aws_notify_env(backend_env, aws_server, tmp_path):
    path = tmp_path / "directory.toml"
    path.write_text(aws_directory_toml())
    return {**backend_env, **aws_server.env(), "MINQING_DIRECTORY": str(path)}


@pytest.mark.parametrize("backend_env", ["embedded"], indirect=True)
def test_staff_get_ses_mail_and_sns_sms_through_the_real_path(aws_notify_env, aws_server, tmp_path):
    server = LiveServer(aws_notify_env, tmp_path)
    try:
        receipt = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()["receipt"]
        [mail] = wait_until(lambda: aws_server.emails_over_http(), timeout=30)
        [sms] = wait_until(lambda: aws_server.sms_over_http(), timeout=30)
        assert mail["destinations"]["ToAddresses"] == ["grid@qjj.example"] and receipt in mail["subject"]
        assert sms["phone_number"] == "+8613900002222" and receipt in sms["message"]
        # Both go to the assignee alone: they carry the contact details needed to act, and one-tap links.
        for text in (mail["body"], sms["message"]):
            assert "13871234567" in text and "王阿姨" in text and f"{server.url}/a/" in text
    finally:
        server.stop()


@pytest.mark.parametrize("backend_env", ["embedded"], indirect=True)
def test_when_ses_refuses_the_mail_the_staff_member_gets_an_sms_instead(aws_notify_env, aws_server, tmp_path):
    unverified = dict(aws_notify_env, MINQING_SES_FROM="not-verified@shouyilu.example")
    server = LiveServer(unverified, tmp_path)
    try:
        lighting = dict(HAZARD[0], category="lighting")  # the grid worker alone
        receipt = server.post("/api/v1/hazard-reports", json=lighting).json()["receipt"]
        [sms] = wait_until(lambda: aws_server.sms_over_http(), timeout=60)
        assert sms["phone_number"] == "+8613800001111" and receipt in sms["message"]
        assert aws_server.emails_over_http() == []
    finally:
        server.stop()


@pytest.mark.parametrize("backend_env", ["embedded", "redis+postgres"], indirect=True)
def test_a_reassignment_tells_the_new_assignee_once_who_acts_with_one_tap(notify_server_env, robot_server, tmp_path):
    server = LiveServer(notify_server_env, tmp_path)
    try:
        receipt = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()["receipt"]
        wait_until(lambda: robot_server.at("/wecom/grid"))
        issued = subprocess.run([sys.executable, "-m", "minqing", "token", "create", "--staff", "street-leader"],
                                env=server.env, capture_output=True, text=True, timeout=60)
        leader = {"Authorization": f"Bearer {issued.stdout.strip()}"}
        [case] = wait_until(lambda: server.get("/api/v1/cases", headers=leader).json()["items"])

        def assign(*assignees):
            response = server.post(f"/api/v1/cases/{case['id']}/actions", headers=leader,
                                   json={"action": "assign", "assignees": list(assignees), "note": "请书记跟进"})
            assert response.status_code == 200, response.text

        assign("qjj-grid", "qjj-secretary")
        [notice] = wait_until(lambda: robot_server.at("/dingtalk/qjj"))
        text = notice["json"]["markdown"]["text"]
        assert "转派给您" in text and receipt in text and "街道分管领导将此件转派给您" in text
        assign("qjj-grid", "qjj-secretary")  # the same request again: nobody new to tell
        time.sleep(2)
        assert len(robot_server.at("/dingtalk/qjj")) == 1
        assert len(robot_server.at("/wecom/grid")) == 1  # the grid worker already had it

        acknowledge, _ = robot_links(notice)
        assert requests.post(acknowledge, timeout=15).status_code == 200
        history = server.get(f"/api/v1/cases/{case['id']}", headers=leader).json()["history"]
        assert (history[-1]["status"], history[-1]["actor"]) == ("acknowledged", "qjj-secretary")

        assign("qjj-grid")
        assign("qjj-secretary")  # handed back: told again
        wait_until(lambda: len(robot_server.at("/dingtalk/qjj")) == 2)
    finally:
        server.stop()


@pytest.mark.parametrize("backend_env", ["embedded", "redis+postgres"], indirect=True)
def test_a_robot_that_stopped_answering_is_skipped_not_waited_on(notify_server_env, robot_server, smtp_server,
                                                                  tmp_path):
    # Without the breaker each of the 20 grid notifications would wait out 3 timeouts before falling back
    # to e-mail: 60 requests, each holding a worker thread for the whole timeout.
    robot_server.hang("/wecom/grid", 30)
    env = dict(notify_server_env, MINQING_CHANNEL_TIMEOUT_S="1", MINQING_CHANNEL_BREAK_AFTER="2",
               MINQING_CHANNEL_BREAK_S="600", MINQING_NOTIFY_MAX_RETRIES="2")
    server = LiveServer(env, tmp_path)
    try:
        receipts = [server.post("/api/v1/hazard-reports", json=dict(HAZARD[0], description=f"第{i}处")).json()["receipt"]
                    for i in range(20)]
        # Every report reaches the safety office by e-mail, and the grid worker's falls back to e-mail.
        wait_until(lambda: len(smtp_server.messages) >= 40, timeout=90)
        subjects = [m["Subject"] for m in smtp_server.parsed()]
        assert all(sum(r in s for s in subjects) == 2 for r in receipts)
        # The robot was tried until the breaker opened: the threshold, plus sends already under way then.
        assert len(robot_server.failed) <= 2 + int(env["MINQING_WORKER_THREADS"])
    finally:
        server.stop()
