"""平安合伙人 through the real path: the roster imported from the office's CSV, findings checked against it,
and a finding fixed on the spot stored as resolved, told as a notice and counted, on `minqing serve`
(embedded, and Redis + PostgreSQL)."""

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from minqing.directory import default_directory_path
from minqing.store.engine import make_engine
from minqing.store.tables import outbox, status_history, submissions
from minqing.testing.live import LiveServer
from tests.conftest import backend_settings, wait_until

pytestmark = pytest.mark.integration

ROSTER_CSV = """编号,姓名,队伍,社区,手机,在册
JL-001,张志愿,江零一队,江零社区,13800000001,是
JL-002,李志愿,江零一队,jiangling,,否
JL-003,王志愿,江零一队,没有这个社区,,是
JL-001,重复,江零一队,jiangling,,是
bad id!,赵志愿,江零一队,jiangling,,是
"""


def minqing(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minqing", *args], env=env, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


@pytest.fixture(params=["embedded", "redis+postgres"])
def server(request, base_env, tmp_path):
    import os

    (tmp_path / "roster.csv").write_text(ROSTER_CSV, encoding="utf-8-sig")
    imported = minqing({**os.environ, **base_env}, "volunteers", "import", str(tmp_path / "roster.csv"),
                       "--output", str(tmp_path / "volunteers.toml"))
    assert imported.returncode == 0, imported.stderr
    assert "2 volunteers written, 3 rows refused (1 active)" in imported.stdout
    assert "line 4: refused: community: unknown community '没有这个社区'" in imported.stderr
    assert "line 5: refused: id: 'JL-001' is listed twice" in imported.stderr
    assert "line 6: refused: id:" in imported.stderr
    directory = tmp_path / "directory.toml"
    directory.write_text('volunteers_file = "volunteers.toml"\n' + default_directory_path().read_text("utf-8"),
                         encoding="utf-8")
    live = LiveServer(backend_settings(request, request.param, {**base_env, "MINQING_DIRECTORY": str(directory)}),
                      tmp_path)
    yield live
    live.stop()


def finding(volunteer="JL-001", **extra):
    return {"community": "jiangling", "category": "ev_charging", "severity": "high",
            "description": "3栋楼道内电动车电池充电", "location": {"address": "江零社区3栋1单元楼道"},
            "patrol": {"team": "江零一队", "volunteer_id": volunteer, "round": "r-" + uuid.uuid4().hex[:8]},
            "client_ref": str(uuid.uuid4()), **extra}


def engine_of(server):
    return make_engine(server.env.get("MINQING_DATABASE_URL")
                       or f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db")


def test_a_finding_must_name_an_active_volunteer_of_the_roster(server):
    for who in ("JL-404", "JL-002"):  # unknown; left the team
        refused = server.post("/api/v1/hazard-reports", json=finding(who))
        assert refused.status_code == 422
        assert list(refused.json()["errors"]) == ["patrol.volunteer_id"]
    assert server.post("/api/v1/hazard-reports", json=finding()).status_code == 202


def test_a_finding_fixed_on_the_spot_is_stored_resolved_told_and_counted(server):
    fixed = finding(rectified_on_site=True, rectification="已将电池移出楼道，告知住户到集中充电点充电")
    accepted = server.post("/api/v1/hazard-reports", json=fixed)
    assert accepted.status_code == 202, accepted.text
    receipt = accepted.json()["receipt"]
    wait_until(lambda: server.get(f"/api/v1/receipts/{receipt}").json().get("status") == "resolved", timeout=30)
    engine = engine_of(server)
    try:
        with engine.connect() as c:
            case = c.execute(select(submissions).where(submissions.c.receipt == receipt)).one()
            steps = c.execute(select(status_history).where(status_history.c.submission_id == case.id)
                              .order_by(status_history.c.at, status_history.c.id)).all()
            told = wait_until(lambda: c.execute(select(outbox).where(outbox.c.submission_id == case.id)).all())
    finally:
        engine.dispose()
    assert [(s.status, s.actor) for s in steps] == [("received", "system"), ("resolved", "volunteer:JL-001")]
    assert steps[1].note == fixed["rectification"]
    # The community hears of it as a notice, not a task: no one-tap links to act on it.
    assert {row.event for row in told} == {"rectified"}
    assert all("已当场整改" in row.subject and "/a/" not in row.body for row in told)
    # The next finding of the same round, left for the community to fix.
    assert server.post("/api/v1/hazard-reports", json={**finding(), "patrol": fixed["patrol"]}).status_code == 202
    tallies = wait_until(lambda: (t := server.get("/api/v1/tallies").json()["totals"]["hazard"])["received"] == 2
                         and t, timeout=30)
    assert tallies["received"] == 2 and tallies["resolved"] == 1 and tallies["rectified_on_site"] == 1
    assert tallies["patrol_findings"] == 2 and tallies["patrol_rounds"] == 1
    rebuilt = minqing(server.env, "tallies", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert server.get("/api/v1/tallies").json()["totals"]["hazard"] == tallies


def test_a_resident_cannot_mark_a_report_fixed_on_the_spot(server):
    resident = finding(rectified_on_site=True, rectification="我自己修好了")
    del resident["patrol"]
    refused = server.post("/api/v1/hazard-reports", json=resident)
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["rectified_on_site"]
