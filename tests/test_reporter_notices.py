"""Telling the reporter: an SMS (SNS, moto in server mode) on acknowledge, resolve and reject with the status
link carrying the feedback code, once per step, never for anonymous reports; one reminder before a resolved
case nobody rated closes."""

import copy
import re
from datetime import timedelta

import pytest

from minqing.receipts import feedback_code
from minqing.settings import load_settings
from minqing.store import base
from minqing.store.tables import outbox
from tests.casework import HAZARD, seed, token_for
from tests.peers import aws_server  # noqa: F401 - fixture
from workers.sweep import sweep


@pytest.fixture()
def settings(base_env, aws_server):
    return load_settings({**base_env, **aws_server.env(), "MINQING_REPORTER_SMS": "on"})


def report(runtime, settings, **contact):
    data = copy.deepcopy(HAZARD[0])
    data["contact"] = contact
    [stored] = seed(runtime, settings, ("hazard", data))
    return stored


def act(client, engine, case_id, **body):
    response = client.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=token_for(engine, "qjj-grid"))
    assert response.status_code == 200, response.json


def sms_to(aws_server, phone: str) -> list[str]:
    return [m[1] for m in aws_server.sent_sms() if m[0] == phone]


def test_the_reporter_is_texted_on_acknowledge_and_reject_with_their_status_link(
        client, runtime, stub_worker, settings, engine, aws_server):
    stored = report(runtime, settings, name="王阿姨", phone="13871234567", notify=True)
    act(client, engine, stored["id"], action="acknowledge", reply="明天上午到现场")
    act(client, engine, stored["id"], action="note", note="内部：联系物业")  # not a status the reporter hears of
    act(client, engine, stored["id"], action="reject", reason="not_our_responsibility", reply="属物业维修范围")
    runtime.broker.join(settings.queue_name)
    texts = sorted(sms_to(aws_server, "+8613871234567"), key=lambda text: "不予受理" in text)
    assert len(texts) == 2  # the two steps; SNS need not keep their order
    assert "已受理" in texts[0] and "明天上午到现场" in texts[0] and "内部" not in "".join(texts)
    assert "不予受理" in texts[1] and "属物业维修范围" in texts[1]
    code = feedback_code(settings.secret_key, stored["id"]).replace("-", "")
    assert all(f"/r/{stored['receipt']}?k={code}" in text for text in texts)
    with engine.connect() as connection:
        rows = connection.execute(outbox.select().where(outbox.c.recipient == "reporter")).all()
    # The code is added when sending: the outbox keeps neither it nor the phone.
    assert len(rows) == 2 and all(code not in r.body and "13871234567" not in r.body for r in rows)
    from workers.residents import tell_reporter

    tell_reporter.send(stored["id"], int(rows[0].event.split("-")[1]))  # redelivered: nothing sent twice
    runtime.broker.join(settings.queue_name)
    assert len(sms_to(aws_server, "+8613871234567")) == 2


def test_nobody_is_told_who_did_not_ask_or_reported_anonymously(client, runtime, stub_worker, settings, engine,
                                                                aws_server):
    quiet = report(runtime, settings, name="李师傅", phone="19912345678")
    anonymous = report(runtime, settings, anonymous=True)
    for case in (quiet, anonymous):
        act(client, engine, case["id"], action="acknowledge")
    runtime.broker.join(settings.queue_name)
    assert aws_server.sent_sms() == []


def test_a_resolved_case_nobody_rated_gets_one_reminder_before_it_closes(client, runtime, stub_worker, settings,
                                                                        engine, aws_server):
    stored = report(runtime, settings, phone="13871234567", notify=True)
    act(client, engine, stored["id"], action="resolve")
    runtime.broker.join(settings.queue_name)
    later = base.now() + timedelta(days=settings.feedback_reminder_days, hours=1)
    for _ in range(2):
        sweep(engine, auto_close_days=settings.auto_close_days, at=later,
              remind_after_days=settings.feedback_reminder_days, enqueue=lambda name, *args: runtime.broker.actors[
                  name].send(*args))
        runtime.broker.join(settings.queue_name)
    texts = sms_to(aws_server, "+8613871234567")
    [reminder] = [text for text in texts if "请评价办理效果" in text]  # once, however often the sweep runs
    assert len(texts) == 2 and re.search(r"/r/[0-9A-Z-]+\?k=", reminder)
