"""Signing in to the console with DingTalk (钉钉网页登录), through `minqing serve` and a local DingTalk peer
over real HTTP: the browser's redirects followed as a browser follows them."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
import requests

from minqing import chat_signin
from minqing.testing.live import LiveServer, free_port
from minqing.testing.peers import DingTalkOAuthPeer


@pytest.fixture(scope="module")
def dingtalk():
    peer = DingTalkOAuthPeer()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, dingtalk):
    env = {"MINQING_DATA_DIR": str(tmp_path_factory.mktemp("var")), "MINQING_SECRET_KEY": uuid.uuid4().hex,
           "MINQING_QUEUE": "mq_" + uuid.uuid4().hex[:12], "MINQING_RATE_LIMIT_PER_ADDRESS": "off", **dingtalk.env}
    live = LiveServer(env, tmp_path_factory.mktemp("logs"), with_worker=False)
    yield live
    live.stop()


@pytest.fixture()
def person(dingtalk):
    yield dingtalk
    dingtalk.user, dingtalk.corp = "union-ZhangSan", dingtalk.CORP_ID


def test_a_member_signs_in_with_dingtalk_and_lands_where_they_were_going(server, person):
    browser = requests.Session()
    assert 'id="dingtalk"' in browser.get(server.url + "/staff/sign-in", timeout=15).text
    person.calls.clear()
    landed = browser.get(server.url + "/staff/sign-in/dingtalk?next=/staff/cases", timeout=15)
    assert landed.status_code == 200 and landed.url == server.url + "/staff/cases"
    assert "江零社区张网格员" in landed.text
    assert person.calls == ["/oauth2/auth", "/v1.0/oauth2/userAccessToken", "/v1.0/contact/users/me",
                            "/gettoken", "/topapi/user/getbyunionid"]
    again = requests.Session().get(server.url + "/staff/sign-in/dingtalk", timeout=15)
    assert again.url == server.url + "/staff/"  # without `next`, my tasks


@pytest.mark.parametrize("who", ["a stranger", "a member who chose another organisation"])
def test_nobody_outside_the_directory_or_the_organisation_is_signed_in(server, person, who):
    if who == "a stranger":
        person.user = "union-stranger"
    else:
        person.corp = "ding-another-corp"
    browser = requests.Session()
    answer = browser.get(server.url + "/staff/sign-in/dingtalk", timeout=15)
    assert answer.status_code == 403
    assert "未登记" in answer.text
    assert browser.get(server.url + "/staff/", timeout=15, allow_redirects=False).status_code in (302, 303)


def test_a_return_without_this_browsers_state_is_refused(server, person):
    browser = requests.Session()
    started = browser.get(server.url + "/staff/sign-in/dingtalk", timeout=15, allow_redirects=False)
    to_dingtalk = browser.get(started.headers["Location"], timeout=15, allow_redirects=False)
    forged = to_dingtalk.headers["Location"].replace("state=", "state=x")
    assert browser.get(forged, timeout=15).status_code == 403
    assert requests.get(to_dingtalk.headers["Location"], timeout=15).status_code == 403  # another browser


def test_an_unreachable_dingtalk_is_a_clear_refusal_not_a_crash():
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = SimpleNamespace(dingtalk_api_url=nowhere, dingtalk_oapi_url=nowhere, dingtalk_app_key="k",
                               dingtalk_app_secret="s", dingtalk_corp_id="")
    with pytest.raises(chat_signin.SignInRefused) as refused:
        chat_signin.dingtalk_userid(settings, "code", timeout=1)
    assert refused.value.unreachable
