"""核查 through `minqing serve`: a hazard staff resolved is listed on the patrol form of its community (public
data only), a volunteer's "not fixed" with a photo reopens it and tells its assignees, "fixed" is recorded, and
the team counts (patrol_tallies) come out the same after `minqing tallies --rebuild`."""

import uuid

import pytest
from sqlalchemy import select

from minqing.store import cases
from minqing.store.tables import outbox, patrol_tallies, status_history, submissions
from tests.casework import token_for
from tests.conftest import wait_until
from tests.photos import phone_jpeg
from tests.test_patrol import engine_of, finding, minqing, server  # noqa: F401 (the fixture)

pytestmark = pytest.mark.integration


def stored_and_resolved_by_staff(server, engine):
    accepted = server.post("/api/v1/hazard-reports", json=finding(description="5栋地下车库消防通道堆放杂物 13800000009"))
    assert accepted.status_code == 202, accepted.text
    receipt = accepted.json()["receipt"]
    with engine.connect() as c:
        case_id = wait_until(lambda: c.execute(select(submissions.c.id).where(
            submissions.c.receipt == receipt)).scalar_one_or_none(), timeout=30)
    resolved = server.post(f"/api/v1/cases/{case_id}/actions", headers=token_for(engine, "jl-grid"),
                           json={"action": "resolve", "note": "已清理"})
    assert resolved.status_code == 200, resolved.text
    return receipt, case_id


def team_counts(engine) -> dict:
    with engine.connect() as c:
        return {(r.team, r.community, r.metric): r.value for r in c.execute(select(patrol_tallies))}


def test_a_check_not_fixed_reopens_the_case_tells_its_assignees_and_is_counted_once(server):
    engine = engine_of(server)
    try:
        receipt, case_id = stored_and_resolved_by_staff(server, engine)
        form = server.get("/f/hazard?mode=patrol&c=jiangling&vid=JL-001&team=江零一队")
        assert form.status_code == 200 and receipt in form.text
        assert "堆放杂物" not in form.text and "13800000009" not in form.text  # public data only
        round_id = "r-" + uuid.uuid4().hex[:8]
        # A phone without JavaScript: the form with its photo, a page back.
        posted = server.post(f"/api/v1/checks/{receipt}?mode=patrol&c=jiangling&vid=JL-001", headers={
            "Accept": "text/html"}, data={"volunteer_id": "JL-001", "round": round_id, "fixed": "false",
                                           "note": "杂物仍在"},
            files={"photos": ("p.jpg", phone_jpeg(400, 300, gps=False), "image/jpeg")},
            allow_redirects=False)
        assert posted.status_code == 303, posted.text
        shown = server.get(posted.headers["Location"])
        assert "已重新打开" in shown.text
        assert server.get(f"/api/v1/receipts/{receipt}").json()["status"] == "reopened"
        with engine.connect() as c:
            step = c.execute(select(status_history).where(status_history.c.submission_id == case_id)
                             .order_by(status_history.c.id.desc())).first()
            assert (step.status, step.actor, step.note) == ("reopened", "volunteer:JL-001", "杂物仍在")
            assert step.photos and step.details["check"] == "not_fixed" and step.details["team"] == "江零一队"
            told = wait_until(lambda: c.execute(select(outbox).where(
                outbox.c.submission_id == case_id, outbox.c.event.like("rechecked-%"))).all(), timeout=30)
            assignees = set(cases.assignees(c, case_id))
        assert {row.recipient for row in told} == assignees and "jl-grid" in assignees
        assert all("核查" in row.subject for row in told)
        # The phone's resend of the same check changes nothing.
        again = server.post(f"/api/v1/checks/{receipt}", json={"volunteer_id": "JL-001", "round": round_id,
                                                                "fixed": False, "photos": step.photos})
        assert again.status_code == 200 and again.json()["already_recorded"] is True
        counted = team_counts(engine)
        assert counted[("江零一队", "jiangling", "checks_not_fixed")] == 1
        assert counted[("江零一队", "jiangling", "findings")] == 1
        assert counted[("江零一队", "jiangling", "rectified_later")] == 1
        # No longer resolved: off the list.
        assert receipt not in server.get("/f/hazard?mode=patrol&c=jiangling").text
        rebuilt = minqing(server.env, "tallies", "--rebuild")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert team_counts(engine) == counted
    finally:
        engine.dispose()


def test_a_check_fixed_is_recorded_leaves_the_case_resolved_and_leaves_the_list(server):
    engine = engine_of(server)
    try:
        receipt, case_id = stored_and_resolved_by_staff(server, engine)
        key = server.post("/api/v1/attachments", json={"content_type": "image/jpeg"}).json()["key"]
        checked = server.post(f"/api/v1/checks/{receipt}", json={
            "volunteer_id": "JL-001", "round": "r-" + uuid.uuid4().hex[:8], "fixed": True, "photos": [key]})
        assert checked.status_code == 201, checked.text
        assert checked.json() == {"receipt": receipt, "check": "fixed", "status": "resolved",
                                  "already_recorded": False}
        assert receipt not in server.get("/f/hazard?mode=patrol&c=jiangling").text
        assert team_counts(engine)[("江零一队", "jiangling", "checks_fixed")] == 1
    finally:
        engine.dispose()


def test_a_check_names_an_active_volunteer_and_has_a_photo(server):
    engine = engine_of(server)
    try:
        receipt, _ = stored_and_resolved_by_staff(server, engine)
        refused = server.post(f"/api/v1/checks/{receipt}", json={"volunteer_id": "JL-404", "round": "r-1",
                                                                  "fixed": False})
        assert refused.status_code == 422
        assert set(refused.json()["errors"]) == {"volunteer_id", "photos"}
        assert server.get(f"/api/v1/receipts/{receipt}").json()["status"] == "resolved"
    finally:
        engine.dispose()


def findings(counted: dict) -> float:
    return sum(value for (_, _, metric), value in counted.items() if metric == "findings")


def test_team_counts_on_the_dashboard_and_in_the_monthly_report_name_no_small_team(server, tmp_path):
    from datetime import datetime, timedelta, timezone

    from openpyxl import load_workbook

    round_id = "r-" + uuid.uuid4().hex[:8]
    for n in range(5):
        body = finding(patrol={"team": "江零一队", "volunteer_id": "JL-001", "round": round_id})
        if n == 0:
            body.update(rectified_on_site=True, rectification="已移走电池")
        assert server.post("/api/v1/hazard-reports", json=body).status_code == 202
    small = finding(patrol={"team": "江零二队", "volunteer_id": "JL-001", "round": "r-small"})
    assert server.post("/api/v1/hazard-reports", json=small).status_code == 202
    engine = engine_of(server)
    try:
        counted = wait_until(lambda: findings(t := team_counts(engine)) == 6 and t, timeout=30)
    finally:
        engine.dispose()
    assert counted[("江零一队", "jiangling", "findings")] == 5 and counted[("江零一队", "jiangling", "rounds")] == 1
    assert counted[("江零一队", "jiangling", "rectified_on_site")] == 1
    page = server.get("/dashboard").text
    assert "平安合伙人" in page and "江零一队" in page and "其他队伍" in page
    assert "江零二队" not in page and "JL-001" not in page and "张志愿" not in page
    assert "Other teams" in server.get("/dashboard?lang=en").text
    month = datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m")
    output = tmp_path / "report.xlsx"
    made = minqing(server.env, "report", "--month", month, "--format", "xlsx", "--output", str(output))
    assert made.returncode == 0, made.stderr
    sheet = [row for row in load_workbook(output)["平安合伙人"].iter_rows(min_row=3, values_only=True)]
    assert [row[:4] for row in sheet] == [("江零社区", "江零一队", "1", "5"), ("江零社区", "其他队伍", "1", "1")]
    assert all("江零二队" not in row for row in sheet)
