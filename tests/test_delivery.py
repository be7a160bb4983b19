"""Delivery semantics with real peers: retries, fallback to the next channel and the fallback contact,
final failures on record, robot rate limits, SLA escalation."""

import time

import dramatiq
import pytest
from sqlalchemy import select

from minqing.directory import Directory
from minqing.settings import load_settings
from tests.conftest import wait_until
from minqing.testing.peers import directory_toml, peer_env  # noqa: F401 - fixtures
from tests.peers import robot_server, smtp_server
from tests.peers import mail_ca, starttls_smtp_server  # noqa: F401 - fixtures
from tests.test_pipeline import HAZARD, envelope
from tests.test_cli import minqing
from minqing.store import outbox as outbox_queries
from minqing.store import changes
from minqing.store.tables import outbox

LIGHTING = dict(HAZARD[0], category="lighting", community="qianjiajie")  # routed to the grid worker alone


@pytest.fixture()
def notify_env(base_env, robot_server, smtp_server):
    return {**base_env, **peer_env(robot_server, smtp_server)}


@pytest.fixture()
def notify_runtime(notify_env, stub_broker, engine, request):
    overrides = dict(getattr(request, "param", {}))
    directory_text = overrides.pop("directory", None)
    yield from running(load_settings({**notify_env, **overrides}), stub_broker, directory_text)


@pytest.fixture()
def untrusted_tls_runtime(notify_env, starttls_smtp_server, stub_broker, engine):
    """E-mail goes to a STARTTLS server whose certificate comes from a CA this client was not told to trust."""
    yield from running(load_settings({**notify_env, **starttls_smtp_server.env()}), stub_broker)


def running(settings, stub_broker, directory_text=None):
    from workers.main import build

    runtime = build(settings, broker=stub_broker, directory=Directory.from_mapping(directory_text or directory_toml()))
    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=4)
    worker.start()
    yield runtime
    worker.stop()


def submit(runtime, data):
    message = envelope(runtime.settings, "hazard", data)
    runtime.broker.actors["store_submission"].send(message)
    return message


def rows(engine, **where):
    with engine.connect() as c:
        query = select(outbox).order_by(outbox.c.id)
        for column, value in where.items():
            query = query.where(outbox.c[column] == value)
        return c.execute(query).all()


def test_a_robot_failing_twice_still_delivers_exactly_one_message(notify_runtime, robot_server, smtp_server, engine):
    robot_server.fail("/wecom/grid", 2)
    submit(notify_runtime, LIGHTING)
    notify_runtime.broker.join(notify_runtime.settings.queue_name)
    assert len(robot_server.at("/wecom/grid")) == 1
    assert smtp_server.messages == []  # no fallback to e-mail was needed
    [row] = rows(engine, recipient="qjj-grid")
    assert (row.status, row.channel, row.attempts) == ("sent", "wecom", 3)
    assert "HTTP 500" in row.last_error


def test_the_next_channel_is_tried_when_the_first_is_exhausted(notify_runtime, robot_server, smtp_server, engine):
    robot_server.down.add("/wecom/grid")
    submit(notify_runtime, LIGHTING)
    notify_runtime.broker.join(notify_runtime.settings.queue_name)
    wecom, smtp = rows(engine, recipient="qjj-grid")
    assert (wecom.status, wecom.superseded_by) == ("failed", smtp.id)
    assert smtp.status == "sent" and smtp_server.messages[0]["to"] == ["grid@qjj.example"]
    # E-mail goes to the assignee alone: it may carry the resident's contact details.
    assert "13871234567" in smtp_server.parsed()[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize("notify_runtime", [{"MINQING_SMTP_PORT": "1"}], indirect=True)
def test_when_every_channel_of_an_assignee_is_down_the_fallback_contact_is_told(notify_runtime, robot_server, engine):
    robot_server.down.add("/wecom/grid")
    submit(notify_runtime, LIGHTING)
    notify_runtime.broker.join(notify_runtime.settings.queue_name)
    [message] = robot_server.at("/dingtalk/qjj")
    text = message["json"]["markdown"]["text"]
    assert "王网格员" in text and "转您处理" in text  # says whose message this is, and why
    assert "13871234567" not in text  # a group robot: masked
    [secretary] = rows(engine, recipient="qjj-secretary")
    assert (secretary.status, secretary.on_behalf_of) == ("sent", "qjj-grid")
    with engine.connect() as c:
        assert outbox_queries.count_failed(c) == 0  # someone was reached


def test_a_mail_server_with_an_untrusted_certificate_is_retried_then_fallen_back_from_never_sent(
        untrusted_tls_runtime, robot_server, starttls_smtp_server, engine):
    robot_server.down.add("/wecom/grid")
    submit(untrusted_tls_runtime, LIGHTING)
    untrusted_tls_runtime.broker.join(untrusted_tls_runtime.settings.queue_name)
    wecom, smtp, secretary = rows(engine)
    assert (smtp.channel, smtp.status, smtp.superseded_by) == ("smtp", "failed", secretary.id)
    assert smtp.attempts == untrusted_tls_runtime.settings.notify_max_retries + 1
    assert "CERTIFICATE_VERIFY_FAILED" in smtp.last_error and not smtp.provider_message_id
    assert starttls_smtp_server.messages == []  # nothing went over the unverified connection
    assert (secretary.recipient, secretary.status) == ("qjj-secretary", "sent")
    assert len(robot_server.at("/dingtalk/qjj")) == 1


@pytest.mark.parametrize("notify_runtime", [{"MINQING_SMTP_PORT": "1"}], indirect=True)
def test_a_notification_that_reaches_nobody_is_listed_as_failed(notify_runtime, notify_env, robot_server, engine):
    robot_server.down.update({"/wecom/grid", "/dingtalk/qjj"})
    message = submit(notify_runtime, LIGHTING)
    notify_runtime.broker.join(notify_runtime.settings.queue_name)
    with engine.connect() as c:
        assert outbox_queries.count_failed(c) == 1
    listing = minqing(notify_env, "notifications", "--failed").stdout
    assert message["receipt"] in listing and "qjj-secretary" in listing and "dingtalk" in listing


@pytest.mark.parametrize("notify_runtime", [{"MINQING_ROBOT_PER_MINUTE": "2"}], indirect=True)
def test_a_robot_over_its_quota_waits_instead_of_failing(notify_runtime, robot_server, engine):
    for report in HAZARD[:4]:
        submit(notify_runtime, dict(report, category="lighting", community="qianjiajie"))
    wait_until(lambda: len(robot_server.at("/wecom/grid")) == 2)
    time.sleep(1)
    assert len(robot_server.at("/wecom/grid")) == 2
    waiting = [r for r in rows(engine, recipient="qjj-grid") if r.status == "pending"]
    assert len(waiting) == 2 and all(r.attempts == 0 for r in waiting)


@pytest.mark.parametrize("notify_runtime", [{"MINQING_SLA_SECONDS": "1"}], indirect=True)
def test_an_unacknowledged_case_climbs_the_chain_once_and_stops_when_acknowledged(notify_runtime, robot_server, engine):
    message = submit(notify_runtime, LIGHTING)
    wait_until(lambda: robot_server.at("/dingtalk/qjj"), timeout=30)
    with engine.begin() as c:
        changes.transition(c, message["id"], "acknowledge", actor="qjj-grid")
    time.sleep(3)  # two more SLA periods: the next check finds the case acknowledged and does nothing
    [escalation] = robot_server.at("/dingtalk/qjj")
    assert "超过时限" in escalation["json"]["markdown"]["text"] and "王网格员" in escalation["json"]["markdown"]["text"]
    assert robot_server.at("/hook/leader") == []
    assert [r.event for r in rows(engine)] == ["received", "escalated-1"]


def test_the_daily_digest_lists_open_cases_once_per_assignee_and_day(notify_runtime, robot_server, engine):
    message = submit(notify_runtime, LIGHTING)
    notify_runtime.broker.join(notify_runtime.settings.queue_name)
    for _ in range(2):  # the scheduler asked twice (a restart): still one digest
        notify_runtime.broker.actors["send_digests"].send("2026-11-26")
        notify_runtime.broker.join(notify_runtime.settings.queue_name)
    digests = [m for m in robot_server.at("/wecom/grid") if "待办" in m["json"]["markdown"]["content"]]
    assert len(digests) == 1 and message["receipt"] in digests[0]["json"]["markdown"]["content"]


def test_the_scheduler_runs_next_at_the_office_time():
    from datetime import datetime, time as clock, timezone

    from workers.scheduler import next_run

    before = datetime(2026, 11, 25, 23, 0, tzinfo=timezone.utc)  # 07:00 on the 26th in Wuhan
    assert next_run(before, clock(8, 0)).isoformat() == "2026-11-26T08:00:00+08:00"
    assert next_run(next_run(before, clock(8, 0)), clock(8, 0)).isoformat() == "2026-11-27T08:00:00+08:00"


# An enterprise rule, and a street whose fallback list goes on to the leader.
STREET_CHAIN = (directory_toml().replace('fallback = ["street-duty"]', 'fallback = ["street-duty", "street-leader"]')
                + '\n[[rules]]\nkind = "enterprise"\nassignees = ["safety-office"]\n')


@pytest.mark.parametrize("notify_runtime", [{"MINQING_SLA_SECONDS": "1", "directory": STREET_CHAIN}], indirect=True)
def test_a_case_without_a_community_chain_climbs_the_streets_fallback_list(notify_runtime, robot_server, engine):
    from tests.casework import ENTERPRISE

    notify_runtime.broker.actors["store_submission"].send(envelope(notify_runtime.settings, "enterprise", ENTERPRISE[0]))
    wait_until(lambda: robot_server.at("/hook/leader"), timeout=30)
    escalations = [(r.event, r.recipient) for r in rows(engine) if r.event.startswith("escalated")]
    assert escalations[:2] == [("escalated-1", "street-duty"), ("escalated-2", "street-leader")]
