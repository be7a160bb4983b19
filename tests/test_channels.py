"""Each channel against a real peer: what arrives, signed and escaped for its format."""

import pytest

from minqing.directory import Directory
from minqing.settings import load_settings
from minqing.testing.peers import peer_env  # noqa: F401 - fixtures
from tests.peers import aws_server, robot_server, smtp_server
from minqing.testing.peers import directory_toml
from workers.channels.base import Link, Notice
from workers.channels.formats import html_message, markdown_message
from workers.channels.http import ChannelError

INJECTION = "墙裂了 [点我领奖](http://evil.example) <script>alert(1)</script> **急** @all"
NOTICE = Notice(id=7, recipient="qjj-grid", event="received", subject="【民情】新隐患上报 HK3D-9F2A-XQ4M",
                body="千家街社区·危墙危房：" + INJECTION, links=(Link("确认受理", "http://127.0.0.1:8000/a/tok"),))


@pytest.fixture()
def staff():
    return Directory.from_mapping(directory_toml()).staff


def channel_settings(base_env, env):
    return load_settings({**base_env, **env})


def test_smtp_delivers_a_chinese_multipart_mail_with_auth(base_env, smtp_server, robot_server, staff):
    from workers.channels.smtp import SMTPChannel

    settings = channel_settings(base_env, peer_env(robot_server, smtp_server))
    message_id = SMTPChannel(settings).send(staff["safety-office"], NOTICE)
    [mail] = smtp_server.parsed()
    assert mail["Subject"] == NOTICE.subject and mail["Message-ID"].strip() == message_id
    assert smtp_server.messages[0]["to"] == ["safety@shouyilu.example"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert INJECTION in text and "http://127.0.0.1:8000/a/tok" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="http://127.0.0.1:8000/a/tok"' in html and 'href="http://evil' not in html


def test_wecom_robot_gets_a_markdown_message_with_the_report_made_inert(base_env, smtp_server, robot_server, staff):
    from workers.channels.wecom import WeComChannel

    settings = channel_settings(base_env, peer_env(robot_server, smtp_server))
    WeComChannel(settings).send(staff["qjj-grid"], NOTICE)
    [message] = robot_server.at("/wecom/grid")
    content = message["json"]["markdown"]["content"]
    assert message["json"]["msgtype"] == "markdown"
    assert "[确认受理](http://127.0.0.1:8000/a/tok)" in content
    assert "](http://evil" not in content and "http://evil" not in content and "<script>" not in content
    assert "**急**" not in content and "@all" not in content


def test_dingtalk_requests_are_signed(base_env, smtp_server, robot_server, staff):
    from workers.channels.dingtalk import DingTalkChannel

    settings = channel_settings(base_env, peer_env(robot_server, smtp_server))
    DingTalkChannel(settings).send(staff["qjj-secretary"], NOTICE)
    [message] = robot_server.at("/dingtalk/qjj")
    assert message["json"]["markdown"]["title"] == NOTICE.subject


def test_dingtalk_with_the_wrong_secret_is_refused_and_raises(base_env, smtp_server, robot_server, staff):
    from workers.channels.dingtalk import DingTalkChannel

    env = dict(peer_env(robot_server, smtp_server), TEST_DINGTALK_SECRET="SECwrong")
    with pytest.raises(ChannelError, match="310000"):
        DingTalkChannel(channel_settings(base_env, env)).send(staff["qjj-secretary"], NOTICE)
    assert robot_server.received == [] and robot_server.refused[0]["problem"] == "sign not match"


def test_webhook_posts_json_with_a_verifiable_signature(base_env, smtp_server, robot_server, staff):
    from workers.channels.webhook import WebhookChannel

    settings = channel_settings(base_env, peer_env(robot_server, smtp_server))
    WebhookChannel(settings).send(staff["street-leader"], NOTICE)
    [message] = robot_server.at("/hook/leader")
    assert message["json"]["body"] == NOTICE.body and message["json"]["links"][0]["url"].endswith("/a/tok")


def test_a_robot_answering_500_raises(base_env, smtp_server, robot_server, staff):
    from workers.channels.wecom import WeComChannel

    robot_server.fail("/wecom/grid", 1)
    with pytest.raises(ChannelError, match="HTTP 500") as raised:
        WeComChannel(channel_settings(base_env, peer_env(robot_server, smtp_server))).send(staff["qjj-grid"], NOTICE)
    assert "wecom-robot-key" not in str(raised.value)  # the robot's key is a secret


def test_ses_sends_html_and_text_mail(base_env, aws_server):
    from minqing.directory import Channel, Staff
    from workers.channels.ses import SESChannel

    member = Staff("x", "张三", "street", (), (), (Channel("ses", {"to": "zhang@example.gov.cn"}),))
    message_id = SESChannel(load_settings({**base_env, **aws_server.env()})).send(member, NOTICE)
    [mail] = aws_server.sent_emails()
    assert mail.id == message_id and mail.destinations["ToAddresses"] == ["zhang@example.gov.cn"]
    assert mail.subject == NOTICE.subject and "&lt;script&gt;" in mail.body


def test_sns_sends_an_sms_to_a_mainland_mobile(base_env, aws_server):
    from minqing.directory import Channel, Staff
    from workers.channels.ses import SNSChannel

    member = Staff("x", "张三", "street", (), (), (Channel("sns", {"phone": "13800001111"}),))
    SNSChannel(load_settings({**base_env, **aws_server.env()})).send(member, NOTICE)
    [(phone, text, *_)] = aws_server.sent_sms()
    assert phone == "+8613800001111" and NOTICE.subject in text


def test_markdown_and_html_show_free_text_without_interpreting_it():
    markdown = markdown_message(NOTICE)
    assert "[点我领奖]" not in markdown and "<script>" not in markdown
    assert "［点我领奖］" in markdown  # still readable
    html = html_message(NOTICE)
    assert "<script>" not in html and "[点我领奖](http://evil.example)" in html.replace("&quot;", '"')


def test_a_robots_quota_is_its_own_not_its_variable_names(base_env, staff):
    from workers.channels.wecom import WeComChannel

    def key(url):
        return WeComChannel(channel_settings(base_env, {"TEST_WECOM_GRID": url})).quota_key(staff["qjj-grid"])

    assert key("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a") == key(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a")
    assert key("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a") != key(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=b")
    assert "key=a" not in key("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a")  # no secret in Redis
