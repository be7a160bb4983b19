"""A worker's log never holds a resident's details: Dramatiq names a failing message by its arguments,
and minqing's workers have it named by actor and message id instead (workers/log_privacy.py)."""

import logging
import uuid
from datetime import datetime, timezone

from minqing.settings import load_settings
from tests.conftest import wait_until
from workers.main import build, start_worker

ENVELOPE = {"kind": "hazard", "lang": "zh-CN", "receipt": "MQ0000000001",
            "data": {"community": "jiangling", "category": "fire_safety", "severity": "high",
                     "description": "楼道堆放杂物，王阿姨家门口", "location": {"address": "江陵路12号"},
                     "contact": {"name": "王阿姨", "phone": "13871234567"}}}


def test_a_failing_message_is_logged_by_actor_and_id_without_the_residents_details(
        base_env, redis_url, postgres_url, caplog):
    # A real worker on Redis whose database is gone: every store fails, and Dramatiq logs each failure.
    gone = postgres_url.rsplit("/", 1)[0] + "/minqing_no_such_database"
    settings = load_settings({**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": gone})
    runtime = build(settings)
    runtime.broker.flush_all()
    caplog.set_level(logging.DEBUG, logger="dramatiq")
    worker = start_worker(runtime, 1)
    try:
        from workers import actors

        envelope = {**ENVELOPE, "id": str(uuid.uuid4()), "submitted_at": datetime.now(timezone.utc).isoformat()}
        message = actors.store_submission.send(envelope)
        wait_until(lambda: any("Failed to process message" in r.getMessage() for r in caplog.records))
    finally:
        worker.stop(timeout=5_000)
        runtime.broker.flush_all()
        runtime.broker.close()
    said = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("dramatiq"))
    assert f"store_submission(message {message.message_id})" in said
    for secret in ("13871234567", "王阿姨", "楼道堆放杂物"):
        assert secret not in said
