"""Rate limits on the public endpoints: per address and per spot, 429 as problem+json with Retry-After,
and submissions still accepted when the limiter's store is down."""

import logging

import pytest

from functions.app import create_app
from tests.casework import HAZARD
from minqing.testing.live import LiveServer, free_port


def app_with(settings, stub_broker, **limits):
    stub_broker.declare_queue(settings.queue_name)
    app = create_app(settings.with_overrides(**limits), broker=stub_broker)
    app.testing = True
    return app.test_client()


def post(client, address, form=HAZARD[0]):
    return client.post("/api/v1/hazard-reports", json=form, environ_base={"REMOTE_ADDR": address})


def test_other_answers_keep_their_own_retry_after(settings, stub_broker, engine, monkeypatch):
    client = app_with(settings, stub_broker, rate_limit_per_address="3/minute", rate_limit_per_spot="2/minute")

    def refuse(envelope):
        raise ConnectionError("queue down")

    monkeypatch.setattr(client.application.extensions["minqing"], "enqueue_submission", refuse)
    assert post(client, "10.0.3.1").headers["Retry-After"] == "5"


def test_an_address_over_its_limit_gets_429_with_retry_after(settings, stub_broker, engine):
    client = app_with(settings, stub_broker, rate_limit_per_address="3/minute", rate_limit_per_spot="off")
    assert [post(client, "10.0.0.1").status_code for _ in range(3)] == [202] * 3
    refused = post(client, "10.0.0.1")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json["type"] == "urn:minqing:problem:rate-limited"
    assert post(client, "10.0.0.2").status_code == 202


def test_one_spot_is_limited_whoever_posts(settings, stub_broker, engine):
    client = app_with(settings, stub_broker, rate_limit_per_address="100/minute", rate_limit_per_spot="2/minute")
    assert [post(client, f"10.0.1.{i}").status_code for i in range(3)] == [202, 202, 429]
    elsewhere = HAZARD[2]  # names no spot
    assert post(client, "10.0.1.9", elsewhere).status_code == 202


def test_submissions_go_through_when_the_limit_store_is_down(settings, stub_broker, engine, caplog):
    client = app_with(settings, stub_broker, rate_limit_per_address="1/minute",
                      rate_limit_storage_url=f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.ERROR):
        assert [post(client, "10.0.2.1").status_code for _ in range(3)] == [202] * 3
    assert any("swallowing error" in r.getMessage().lower() for r in caplog.records)


@pytest.mark.integration
def test_limits_kept_in_redis_apply_across_web_processes(base_env, redis_url, tmp_path):
    env = {**base_env, "MINQING_RATE_LIMIT_PER_ADDRESS": "4/minute",
           "MINQING_RATE_LIMIT_STORAGE_URL": redis_url.rsplit("/", 1)[0] + "/3"}
    server = LiveServer(env, tmp_path, with_worker=False)
    try:
        codes = [server.post("/api/v1/hazard-reports", json=HAZARD[2]).status_code for _ in range(6)]
    finally:
        server.stop()
    assert codes[:4] == [202] * 4 and codes[4:] == [429, 429]


def test_the_public_tallies_and_dashboard_are_limited_per_address_like_the_forms(settings, stub_broker, engine):
    client = app_with(settings, stub_broker, rate_limit_per_address="3/minute", rate_limit_per_spot="off")
    for path in ("/api/v1/tallies", "/dashboard"):
        address = {"REMOTE_ADDR": "10.0.9.1" if path == "/dashboard" else "10.0.9.2"}
        assert [client.get(path, environ_base=address).status_code for _ in range(3)] == [200] * 3
        refused = client.get(path, environ_base=address)
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
