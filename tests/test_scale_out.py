"""Three worker processes on one Redis queue and one PostgreSQL database: every effect happens once."""

import pytest

from minqing.testing.live import LiveServer
from tests.conftest import wait_until
from tests.effects import figure, finished, receipts_stored
from tests.load import Workers, post_reports
from minqing.store.engine import make_engine

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENT_LINE = "minqing.notify: notify"


def test_three_workers_share_the_queue_and_do_each_effect_once(base_env, redis_url, postgres_url, tmp_path):
    total = 300
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": postgres_url}
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(postgres_url)
    workers = Workers(env, tmp_path, count=3)
    try:
        outcome = post_reports(server.url, total, prefix="scale")
        final = wait_until(lambda: finished(engine, total), timeout=180, interval=0.5)
    finally:
        workers.stop()
        server.stop()
    lost = len(outcome.receipts - receipts_stored(engine))
    sends = workers.log_lines(SENT_LINE)
    busy = [w for w in range(1, 4) if open(tmp_path / f"worker-{w}.log").read().count(SENT_LINE)]
    print("\n" + figure("3 workers", sent=total, accepted=outcome.accepted, now=final, lost=lost,
                        extra=f"sends logged {sends} / workers that sent {len(busy)}"))
    assert outcome.accepted == total and lost == 0
    assert final["stored"] == final["counted"] == total and final["doubled"] == 0
    assert final["sent"] == final["notifications"] == final["routed"]
    assert sends == final["notifications"]  # nobody crashed, so not even a repeated send
    assert len(busy) == 3
