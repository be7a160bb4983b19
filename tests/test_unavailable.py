"""A queue that cannot take the message: 503 with Retry-After, never a 202 or a 500, nothing written."""

import json

import pytest
from sqlalchemy import func, select

from minqing.testing.live import LiveServer, free_port
from tests.conftest import SAMPLES
from minqing.store.engine import make_engine, upgrade
from minqing.store.tables import submissions

pytestmark = pytest.mark.integration

REPORT = json.loads((SAMPLES / "hazard.json").read_text())["valid"][0]


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_an_unreachable_queue_answers_503_and_writes_nothing(broker, base_env, tmp_path):
    env = dict(base_env)
    if broker == "redis":
        env["MINQING_BROKER_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    else:
        # A queue file that cannot be created: its folder is a file.
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("")
        env["MINQING_BROKER_URL"] = f"sqlite:///{blocker}/queue.db"
    server = LiveServer(env, tmp_path, with_worker=False)
    try:
        response = server.post("/api/v1/hazard-reports", json=REPORT, headers={"Idempotency-Key": "k-503"})
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["Retry-After"]
        assert "receipt" not in response.json()
        assert server.get("/readyz").status_code == 503
    finally:
        server.stop()
    engine = make_engine(f"sqlite:///{env['MINQING_DATA_DIR']}/minqing.db")
    upgrade(engine)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(submissions)).scalar_one() == 0
