"""Kill -9 a worker half-way through 200 submissions: every one ends stored, notified and counted once."""

import json
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from minqing.testing.live import LiveServer
from tests.conftest import SAMPLES, backend_settings, wait_until
from minqing.store.engine import make_engine
from minqing.store.tables import assignments, outbox, submissions, tally_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPORTS = json.loads((SAMPLES / "hazard.json").read_text())["valid"]
TOTAL = 200


def start_worker(env, log):
    return subprocess.Popen([sys.executable, "-m", "minqing", "worker"], env={**os.environ, **env},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def counts(engine):
    with engine.connect() as c:
        return {
            "stored": c.execute(select(func.count()).select_from(submissions)).scalar_one(),
            "counted": c.execute(select(func.count()).select_from(tally_events)).scalar_one(),
            "routed": c.execute(select(func.count()).select_from(assignments)).scalar_one(),
            "notifications": c.execute(select(func.count()).select_from(outbox)).scalar_one(),
            "sent": c.execute(select(func.count()).where(outbox.c.status == "sent")).scalar_one(),
        }


@pytest.mark.parametrize("backend", ["embedded", "redis+postgres"])
def test_a_killed_worker_loses_nothing_and_doubles_nothing(request, backend, base_env, tmp_path):
    env = backend_settings(request, backend, base_env)
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(env.get("MINQING_DATABASE_URL") or f"sqlite:///{env['MINQING_DATA_DIR']}/minqing.db")
    logs = [open(tmp_path / f"worker-{i}.log", "w") for i in range(2)]
    try:
        first = start_worker(env, logs[0])
        for i in range(TOTAL):
            report = REPORTS[i % len(REPORTS)]
            response = server.post("/api/v1/hazard-reports", json=report, headers={"Idempotency-Key": f"crash-{i}"})
            assert response.status_code == 202
        wait_until(lambda: counts(engine)["stored"] >= TOTAL // 4, timeout=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = counts(engine)
        second = start_worker(env, logs[1])
        final = wait_until(lambda: (c := counts(engine))["counted"] == TOTAL and c["sent"] == c["notifications"]
                           and c["stored"] == TOTAL and c, timeout=90)
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=40)
    finally:
        server.stop()
        for log in logs:
            log.close()
    assert final["stored"] == TOTAL
    assert final["counted"] == TOTAL
    assert final["notifications"] == final["routed"]
    sends = [line for p in logs for line in open(p.name) if "minqing.notify: notify" in line]
    print(f"\n{backend}: killed at {killed_at['stored']} stored; final {final}; log sends {len(sends)}")
    # A kill between a send and its commit may repeat that one send; the outbox keeps one row per key.
    assert final["notifications"] <= len(sends) <= final["notifications"] + int(env["MINQING_WORKER_THREADS"])
