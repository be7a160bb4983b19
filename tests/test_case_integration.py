"""Through the real path: `minqing serve` over HTTP, tokens from the `minqing token` command, staff
working a case, the resident's feedback and the tallies, on SQLite and on PostgreSQL."""

import subprocess
import sys

import pytest

from tests.casework import HAZARD
from minqing.testing.live import LiveServer
from tests.conftest import backend_settings, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", "redis+postgres"])
def server(request, base_env, tmp_path):
    live = LiveServer(backend_settings(request, request.param, base_env), tmp_path)
    yield live
    live.stop()


def minqing(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minqing", *args], env=server.env, capture_output=True,
                          text=True, timeout=60)


def bearer(server, staff_id):
    issued = minqing(server, "token", "create", "--staff", staff_id)
    assert issued.returncode == 0, issued.stderr
    return {"Authorization": f"Bearer {issued.stdout.strip()}"}


def test_staff_work_a_case_and_the_resident_reopens_it(server):
    accepted = server.post("/api/v1/hazard-reports", json=HAZARD[0]).json()
    receipt, code = accepted["receipt"], accepted["feedback_code"]
    grid = bearer(server, "qjj-grid")
    [case] = wait_until(lambda: server.get("/api/v1/cases", headers=grid).json()["items"])
    assert case["receipt"] == receipt
    for action in ("acknowledge", "start", "resolve"):
        response = server.post(f"/api/v1/cases/{case['id']}/actions", json={"action": action, "note": action},
                               headers=grid)
        assert response.status_code == 200, response.text
    illegal = server.post(f"/api/v1/cases/{case['id']}/actions", json={"action": "start"}, headers=grid)
    assert illegal.status_code == 409 and illegal.json()["allowed"] == ["close", "reopen"]

    feedback = server.post(f"/api/v1/receipts/{receipt}/feedback", json={"rating": 2, "fixed": False,
                                                                         "comment": "裂缝还在", "feedback_code": code})
    assert feedback.status_code == 201 and feedback.json()["status"] == "reopened"
    again = server.post(f"/api/v1/receipts/{receipt}/feedback",
                        json={"rating": 5, "fixed": True, "feedback_code": code})
    assert again.status_code == 409

    tallies = server.get("/api/v1/tallies").json()
    assert tallies["totals"]["hazard"] == {"received": 1, "acknowledged": 1, "in_progress": 1, "resolved": 1,
                                           "reopened": 1, "rated": 1, "rating_sum": 2}


def test_other_staff_see_nothing_and_a_revoked_token_opens_nothing(server):
    server.post("/api/v1/hazard-reports", json=HAZARD[0])
    grid = bearer(server, "qjj-grid")
    [case] = wait_until(lambda: server.get("/api/v1/cases", headers=grid).json()["items"])
    other = bearer(server, "jl-grid")
    assert server.get("/api/v1/cases", headers=other).json()["items"] == []
    assert server.get(f"/api/v1/cases/{case['id']}", headers=other).status_code == 404
    assert server.get("/api/v1/cases").status_code == 401
    token_id = grid["Authorization"].split("_")[1]
    assert minqing(server, "token", "revoke", token_id).returncode == 0
    assert server.get("/api/v1/cases", headers=grid).status_code == 401


def test_the_dashboard_is_served_over_http(server):
    server.post("/api/v1/hazard-reports", json=HAZARD[0])
    page = wait_until(lambda: (r := server.get("/dashboard")).ok and ">1</b>" in r.text and r.text)
    assert "<svg" in page and "王阿姨" not in page


def test_a_csv_export_streams_over_http(server):
    server.post("/api/v1/hazard-reports", json=HAZARD[0])
    grid = bearer(server, "qjj-grid")
    wait_until(lambda: server.get("/api/v1/cases", headers=grid).json()["items"])
    response = server.get("/api/v1/exports/cases.csv", headers=grid, stream=True)
    assert response.headers.get("Transfer-Encoding") == "chunked"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff") and "王阿姨" in text
