"""The reliability suite under load: workers killed, Redis restarted, PostgreSQL stopped. Each test prints a
FIGURE line (sent / accepted / stored / notified / counted / lost / doubled); docs/reliability.md keeps them.

    pytest -m faults -s
"""

import threading
import time

import pytest

from tests.conftest import LiveServer, wait_until
from tests.effects import effects, figure, finished, receipts_stored
from tests.load import Workers, post_reports
from tests.private_servers import private_postgres, private_redis  # noqa: F401 - fixtures
from workers.db import make_engine

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

SENT_LINE = "minqing.notify: notify"


def in_background(function, *args, **kwargs):
    """Run `function` in a thread; the returned callable joins it and gives its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function(*args, **kwargs)), daemon=True)
    thread.start()

    def join():
        thread.join()
        return result["value"]
    return join


def test_killing_a_worker_every_few_seconds_loses_nothing(base_env, redis_url, postgres_url, tmp_path):
    total = 2000
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": postgres_url}
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(postgres_url)
    workers = Workers(env, tmp_path, count=2)
    stop_killing, kills = threading.Event(), []

    def killer():
        while not stop_killing.wait(4):
            workers.kill_and_replace(len(kills) % 2)
            kills.append(time.monotonic())

    threading.Thread(target=killer, daemon=True).start()
    try:
        outcome = post_reports(server.url, total, prefix="kill")
        # Keep killing while the backlog drains, then let the last workers finish in peace.
        wait_until(lambda: effects(engine)["stored"] >= total, timeout=300, interval=0.5)
        stop_killing.set()
        final = wait_until(lambda: finished(engine, total), timeout=300, interval=0.5)
    finally:
        stop_killing.set()
        workers.stop()
        server.stop()
    lost = len(outcome.receipts - receipts_stored(engine))
    sends = workers.log_lines(SENT_LINE)
    print("\n" + figure("kill -9 every 4 s", sent=total, accepted=outcome.accepted, now=final, lost=lost,
                        extra=f"kills {len(kills)} / sends logged {sends} (repeated {sends - final['notifications']})"))
    assert outcome.accepted == total and lost == 0
    assert final["stored"] == final["counted"] == total and final["doubled"] == 0 and final["dead"] == 0
    assert final["sent"] == final["notifications"] == final["routed"]
    assert len(kills) >= 3


def through_an_outage(env, tmp_path, total: int, prefix: str, outage, **posting):
    """Post `total` reports while 2 workers process them; `outage()` runs once 100 are stored. Returns the
    clients' outcome, the final effects, the number of accepted submissions lost, and the workers."""
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(env["MINQING_DATABASE_URL"])
    workers = Workers(env, tmp_path, count=2)
    try:
        clients = in_background(post_reports, server.url, total, prefix=prefix, pace=0.02, **posting)
        wait_until(lambda: effects(engine)["stored"] >= 100, timeout=120, interval=0.2)
        outage()
        outcome = clients()
        final = wait_until(lambda: finished(engine, outcome.accepted), timeout=300, interval=0.5)
        lost = len(outcome.receipts - receipts_stored(engine))
    finally:
        workers.stop()
        server.stop()
        engine.dispose()
    return outcome, final, lost, workers


def test_a_redis_restart_loses_no_accepted_submission(private_redis, postgres_url, base_env, tmp_path):
    total = 600
    env = {**base_env, "MINQING_BROKER_URL": private_redis.url, "MINQING_DATABASE_URL": postgres_url,
           "MINQING_MAX_RETRIES": "20", "MINQING_MAX_BACKOFF_MS": "2000"}

    def restart_redis():
        private_redis.kill()
        time.sleep(3)
        private_redis.start()

    outcome, final, lost, _ = through_an_outage(env, tmp_path, total, "redis", restart_redis, retry_for=90)
    answers = dict(sorted(outcome.statuses.items(), key=str))
    print("\n" + figure("Redis kill -9 and restart (AOF)", sent=total, accepted=outcome.accepted, now=final,
                        lost=lost, extra=f"answers {answers} / clients that gave up {outcome.gave_up}"))
    assert outcome.statuses[500] == 0
    assert outcome.statuses[503] > 0, "the outage should have met some requests"
    assert outcome.accepted == total and outcome.gave_up == 0, "every client retrying its key got through"
    assert lost == 0 and final["stored"] == final["counted"] == total and final["doubled"] == 0


def test_postgres_down_for_ten_seconds_workers_retry_and_catch_up(private_postgres, redis_url, base_env, tmp_path):
    total = 600
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": private_postgres.url,
           "MINQING_MAX_RETRIES": "30", "MINQING_MAX_BACKOFF_MS": "2000"}

    def stop_postgres_for_ten_seconds():
        private_postgres.stop("immediate")
        time.sleep(10)
        private_postgres.start()

    outcome, final, lost, workers = through_an_outage(env, tmp_path, total, "pg", stop_postgres_for_ten_seconds)
    retried = workers.log_lines("Retrying message")
    print("\n" + figure("PostgreSQL stopped 10 s", sent=total, accepted=outcome.accepted, now=final, lost=lost,
                        extra=f"answers {dict(outcome.statuses)} / retries logged {retried}"))
    assert outcome.statuses[500] == 0
    assert lost == 0 and final["stored"] == final["counted"] == outcome.accepted == total
    assert final["doubled"] == 0 and final["dead"] == 0
    assert retried > 0, "the outage should have made workers retry"
