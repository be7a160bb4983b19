"""The public outcome dashboard and the monthly report: the street's figures, charts drawn as SVG,
both languages, and never a name or a phone number."""

import subprocess
import sys
from datetime import date

import pytest
from openpyxl import load_workbook

from minqing import charts
from minqing.outcomes import outcomes
from minqing.report import month_bounds, write_report
from tests.casework import CONSULTATION, ENTERPRISE, HAZARD, seed
from minqing.store import base, changes, counts


@pytest.fixture()
def worked(runtime, stub_worker, settings, engine):
    messages = seed(runtime, settings, *[("hazard", h) for h in HAZARD], *[("consultation", c) for c in CONSULTATION],
                    ("enterprise", ENTERPRISE[0]))
    with engine.begin() as c:
        changes.transition(c, messages[0]["id"], "resolve", actor="qjj-grid")
        changes.transition(c, messages[-1]["id"], "resolve", actor="ent-officer-li", details={"outcome": "solved"})
    return messages


def test_the_dashboard_shows_the_streets_figures_with_svg_charts(client, worked):
    response = client.get("/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "首义路街道" in page and "发现隐患" in page
    assert page.count("<svg") == 2 and "<script" not in page
    assert "@media print" in page and 'name="viewport"' in page
    for private in ("王阿姨", "13871234567", "张先生", "13607101234", "刘经理"):
        assert private not in page


def test_the_dashboard_speaks_english_when_asked(client, worked):
    page = client.get("/dashboard?lang=en").get_data(as_text=True)
    assert "Hazards found" in page and "Jiangling Community" in page and '<html lang="en">' in page


def test_a_bad_year_is_a_problem_not_a_500(client):
    response = client.get("/dashboard?year=20x6")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_the_figures_add_up_from_the_tallies(engine, worked):
    with engine.connect() as c:
        figures = outcomes(counts.tally_rows(c))
    assert figures.headline["hazards_found"] == 5 and figures.headline["hazards_rectified"] == 1
    assert figures.headline["sessions_held"] == 2 and figures.headline["residents_served"] == 48
    assert figures.headline["enterprise_taken"] == 1 and figures.headline["enterprise_solved"] == 1
    assert figures.by_community["qianjiajie"] == {"hazards_found": 1, "hazards_rectified": 1}


def test_chart_labels_are_escaped():
    svg = charts.bars("t", [("<script>alert(1)</script>", [1, 2])], ["a", "b"])
    assert "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.parametrize("suffix", [".pdf", ".xlsx"])
def test_the_monthly_report_is_written(engine, runtime, worked, tmp_path, suffix):
    month = base.now().strftime("%Y-%m")
    path = write_report(engine, runtime.directory, month, tmp_path / f"report{suffix}")
    data = path.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF") and b"STSong-Light" in data
    else:
        summary = {row[0]: row[1] for row in load_workbook(path)["总体情况"].iter_rows(min_row=3, values_only=True)}
        assert summary["发现隐患"] == "5" and summary["解决企业诉求"] == "1"


def test_the_report_command(base_env, tmp_path):
    import os

    output = tmp_path / "nov.xlsx"
    done = subprocess.run([sys.executable, "-m", "minqing", "report", "--month", "2026-11", "--format", "xlsx",
                           "--output", str(output)], env={**os.environ, **base_env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert load_workbook(output).sheetnames == ["总体情况", "分社区", "分类别", "平安合伙人"]
    bad = subprocess.run([sys.executable, "-m", "minqing", "report", "--month", "Nov"],
                         env={**os.environ, **base_env}, capture_output=True, text=True)
    assert bad.returncode == 2


def test_month_bounds():
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
