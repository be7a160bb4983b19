"""SQS as the queue (dramatiq-sqs against moto in server mode): `minqing worker` on it, redelivery after a
killed worker's visibility timeout, and the SQS-triggered worker Lambda with partial batch failures."""

import base64
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from dramatiq import Message

from minqing.settings import load_settings
from minqing.testing.live import LiveServer, free_port
from tests.conftest import SAMPLES, wait_until
from tests.effects import effects, figure, finished
from minqing.testing.lambda_events import sqs_batch
from workers.brokers.sqs import sqs_options
from minqing.store.engine import make_engine, upgrade

HAZARD = json.loads((SAMPLES / "hazard.json").read_text())["valid"]
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture()
def sqs_url(monkeypatch):
    """A moto server on a free port; the URL of an SQS queue on it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    yield f"sqs://?region=us-east-1&endpoint_url=http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def sqs_env(base_env, sqs_url) -> dict:
    return {**base_env, "MINQING_BROKER_URL": sqs_url}


@pytest.fixture()
def sqs_engine(sqs_env):
    engine = make_engine(load_settings(sqs_env).database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_an_sqs_url_names_region_endpoint_and_namespace():
    assert sqs_options("sqs://") == {"namespace": None}
    assert sqs_options("sqs://?region=cn-north-1&endpoint_url=http://127.0.0.1:9324&namespace=prod") == {
        "namespace": "prod", "region_name": "cn-north-1", "endpoint_url": "http://127.0.0.1:9324"}
    with pytest.raises(ValueError):
        sqs_options("sqs://?visibility=3")


def start_worker(env, log):
    return subprocess.Popen([sys.executable, "-m", "minqing", "worker"], env={**os.environ, **env},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_on_sqs_finishes_what_a_killed_worker_took(sqs_env, sqs_engine, tmp_path):
    total = 40
    server = LiveServer(sqs_env, tmp_path, with_worker=False)
    logs = [open(tmp_path / f"worker-{i}.log", "w") for i in range(2)]
    try:
        first = start_worker(sqs_env, logs[0])
        accepted = sum(server.post("/api/v1/hazard-reports", json=HAZARD[i % len(HAZARD)],
                                   headers={"Idempotency-Key": f"sqs-{i}"}).status_code == 202 for i in range(total))
        wait_until(lambda: effects(sqs_engine)["stored"] >= 5, timeout=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        second = start_worker(sqs_env, logs[1])
        final = wait_until(lambda: finished(sqs_engine, total), timeout=120, interval=0.5)
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=40)
    finally:
        server.stop()
        for log in logs:
            log.close()
    print("\n" + figure("sqs kill -9", sent=total, accepted=accepted, now=final, lost=total - final["stored"]))
    assert accepted == total
    assert final["stored"] == final["counted"] == total
    assert final["doubled"] == 0 and final["dead"] == 0


# The worker Lambda, fed the records SQS hands it.

@pytest.fixture()
def lambda_worker(sqs_env, sqs_engine, monkeypatch):
    """`workers.aws.handler` as Lambda runs it, and a way to pull batches off the moto queue."""
    from workers import aws

    for name, value in sqs_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(aws, "_runtime", None)
    runtime = aws.runtime()
    # In AWS the template creates the queue; the broker creates it on first use, the test here.
    queue = runtime.broker.sqs.create_queue(QueueName=runtime.settings.queue_name)

    def receive(wait: float = 0) -> list:
        """One batch as the event source mapping would deliver it (deleting what it hands over)."""
        messages = queue.receive_messages(MaxNumberOfMessages=10, WaitTimeSeconds=int(wait),
                                          AttributeNames=["All"])
        for message in messages:
            message.delete()
        return [m.body for m in messages]

    yield aws, runtime, receive
    monkeypatch.setattr(aws, "_runtime", None)


def store_message(runtime, index: int) -> str:
    """The body of a `store_submission` message, as the HTTP function queues it on SQS."""
    from minqing.receipts import receipt_for, submission_id

    sid = submission_id(runtime.settings.secret_key, "hazard", f"lambda-{index}")
    envelope = {"id": sid, "receipt": receipt_for(runtime.settings.secret_key, "hazard", sid), "kind": "hazard",
                "data": HAZARD[index % len(HAZARD)], "idempotency_key": f"lambda-{index}",
                "lang": "zh-CN", "submitted_at": "2026-11-08T01:00:00+00:00"}
    message = Message(queue_name=runtime.settings.queue_name, actor_name="store_submission", args=(envelope,),
                      kwargs={}, options={})
    return base64.b64encode(message.encode()).decode()


@pytest.mark.integration
def test_the_worker_lambda_runs_every_effect_once_even_when_batches_come_twice(lambda_worker, sqs_engine):
    aws, runtime, receive = lambda_worker
    total = 12
    batch = sqs_batch([store_message(runtime, i) for i in range(total)])
    for _ in range(2):  # SQS delivers at least once: the same batch again must change nothing
        assert aws.handler(batch) == {"batchItemFailures": []}
    while bodies := receive(wait=1):
        event = sqs_batch(bodies)
        assert aws.handler(event) == {"batchItemFailures": []}
        assert aws.handler(event) == {"batchItemFailures": []}
    final = finished(sqs_engine, total)
    assert final and final["stored"] == final["counted"] == total and final["doubled"] == 0


@pytest.mark.integration
def test_only_records_that_cannot_be_handled_come_back(lambda_worker, sqs_engine):
    aws, runtime, receive = lambda_worker
    broken = Message(queue_name=runtime.settings.queue_name, actor_name="store_submission", args=({"id": "x"},),
                     kwargs={}, options={})
    exhausted = broken.copy(options={"retries": runtime.settings.max_retries})
    bodies = [store_message(runtime, 0), base64.b64encode(broken.encode()).decode(), "not a dramatiq message",
              base64.b64encode(exhausted.encode()).decode()]
    event = sqs_batch(bodies)
    answer = aws.handler(event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][2]["messageId"]}]}
    # The broken message with retries left went back on the queue with a back-off; the exhausted one is a
    # dead letter; the good one is stored.
    retried = wait_until(lambda: [Message.decode(base64.b64decode(b)) for b in receive(wait=1)
                                  if Message.decode(base64.b64decode(b)).actor_name == "store_submission"], timeout=15)
    assert [m.options["retries"] for m in retried] == [1]
    now = effects(sqs_engine)
    assert now["stored"] == 1 and now["dead"] == 1


@pytest.mark.integration
def test_a_timer_longer_than_sqs_allows_hops_until_it_is_due(lambda_worker, sqs_engine):
    from workers.brokers.sqs import DUE, MAX_DELAY_MS
    from workers.notifications import check_sla
    from workers.registry import timers_queue

    aws, runtime, receive = lambda_worker
    # An SLA timer two days off: SQS takes at most 15 minutes, so it travels marked with when it is due.
    sent = check_sla.send_with_options(args=("no-such-case", 1), delay=2 * 86_400_000)
    timers = runtime.broker.sqs.get_queue_by_name(QueueName=timers_queue(runtime.settings))
    timers.load()
    assert timers.attributes["ApproximateNumberOfMessagesDelayed"] == "1"

    # Handed over early (as its 15-minute hop ends), it is sent on, not run: no dead letter, no failure.
    early = Message(queue_name=sent.queue_name, actor_name=check_sla.actor_name, args=("no-such-case", 1), kwargs={},
                    options={DUE: int(time.time() * 1000) + 2 * MAX_DELAY_MS})
    assert aws.handler(sqs_batch([base64.b64encode(early.encode()).decode()])) == {"batchItemFailures": []}
    timers.load()
    assert timers.attributes["ApproximateNumberOfMessagesDelayed"] == "2"
    assert effects(sqs_engine)["dead"] == 0
