"""Security review, issue 16: exports carry no live formulas, masking catches every way a phone or ID
number is written, a case's duplicates stay within the caller's scope, and a bad cursor is a 400.
Through the real path: `minqing serve` over HTTP, on the embedded backend and on PostgreSQL."""

import base64
import copy
import csv
import io
import json
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from schemas.cases import CaseFilterSchema
from tests.casework import HAZARD, token_for
from tests.conftest import backend_settings, wait_until
from workers.db import make_engine

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", "redis+postgres"])
def backend_env(request, base_env) -> dict:
    return backend_settings(request, request.param, base_env)


def report(server, **changes) -> dict:
    """A hazard report posted over HTTP and waited for until it is stored: its id and receipt."""
    form = {**copy.deepcopy(HAZARD[0]), **changes}
    response = server.post("/api/v1/hazard-reports", json=form)
    assert response.status_code == 202, response.text
    accepted = response.json()
    wait_until(lambda: server.get(f"/api/v1/receipts/{accepted['receipt']}").json().get("submitted_at"))
    return accepted


def staff(server, staff_id: str) -> dict:
    engine = make_engine(server.env.get("MINQING_DATABASE_URL") or
                         f"sqlite:///{server.env['MINQING_DATA_DIR']}/minqing.db")
    try:
        return token_for(engine, staff_id)
    finally:
        engine.dispose()


# 1. Exports: text stays text.

FORMULAS = {
    "description": '=HYPERLINK("http://evil.example/x","click")',
    "address": "+1+cmd|' /C calc'!A0",
    "name": "@SUM(1+1)",
}


def hostile_report(server) -> str:
    form = copy.deepcopy(HAZARD[0])
    form["description"] = FORMULAS["description"]
    form["location"]["address"] = FORMULAS["address"]
    form["contact"]["name"] = FORMULAS["name"]
    return report(server, **form)["receipt"]


def test_the_xlsx_export_holds_formulas_as_plain_text(live_server):
    receipt = hostile_report(live_server)
    response = live_server.get("/api/v1/exports/cases.xlsx", headers=staff(live_server, "qjj-grid"))
    assert response.status_code == 200
    sheet_xml = zipfile.ZipFile(io.BytesIO(response.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    rows = list(load_workbook(io.BytesIO(response.content))["cases"].iter_rows(values_only=True))
    [row] = [r for r in rows[1:] if r[0] == receipt]
    assert (row[11], row[12], row[13]) == (FORMULAS["description"], FORMULAS["address"], FORMULAS["name"])
    assert row[14] == HAZARD[0]["contact"]["phone"] and row[6].startswith("20")  # dates stay ISO text


def test_the_csv_export_quotes_cells_a_spreadsheet_would_evaluate(live_server):
    receipt = hostile_report(live_server)
    plain = report(live_server, description="围墙裂缝 = 危险，-5℃ 结冰")["receipt"]
    response = live_server.get("/api/v1/exports/cases.csv", headers=staff(live_server, "qjj-grid"))
    assert response.status_code == 200
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows[receipt][11:14] == ["'" + FORMULAS["description"], "'" + FORMULAS["address"], "'" + FORMULAS["name"]]
    assert rows[plain][11] == "围墙裂缝 = 危险，-5℃ 结冰"  # only a leading trigger is guarded
    assert rows[plain][14] == HAZARD[0]["contact"]["phone"]


# 4. A cursor that is not one of ours is a 400, never a 500.

def cursor_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_a_cursor_with_a_naive_moment_is_a_400_in_both_languages(live_server):
    headers = staff(live_server, "street-leader")
    cursor = cursor_of(["2026-11-08T09:30:00", "5d0c7f5e-0000-4000-8000-000000000000"])
    for lang, text in (("zh-CN", "分页游标无效"), ("en", "The cursor is not valid")):
        response = live_server.get("/api/v1/cases", params={"cursor": cursor},
                                   headers={**headers, "Accept-Language": lang})
        assert response.status_code == 400, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["errors"]["cursor"][0].startswith(text)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
MOMENTS = st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat())
GARBAGE = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    JSON.map(cursor_of),
    st.tuples(MOMENTS | JSON, st.uuids().map(str) | JSON).map(lambda pair: cursor_of(list(pair))),
)
CURSOR_FIELD = CaseFilterSchema().fields["cursor"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=GARBAGE)
def test_no_cursor_answers_500(client, engine, cursor):
    response = client.get("/api/v1/cases", query_string={"cursor": cursor}, headers=staff_headers(engine))
    assert response.status_code in (200, 400, 422), (cursor, response.json)
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json" and "cursor" in response.json["errors"]
    if not CURSOR_FIELD.pattern.fullmatch(cursor.strip()):
        assert response.status_code == 422  # not even shaped like a cursor: the filter's validation error
    elif response.status_code != 200:
        assert response.status_code == 400


_TOKENS = {}


def staff_headers(engine) -> dict:
    # One token per database: hypothesis calls the test many times with the same fixtures.
    if id(engine) not in _TOKENS:
        _TOKENS.clear()
        _TOKENS[id(engine)] = token_for(engine, "street-leader")
    return _TOKENS[id(engine)]


# 3. A case's duplicates: only those the caller may see.

def test_a_duplicate_in_another_community_is_not_listed_on_the_original(live_server):
    leader = staff(live_server, "street-leader")
    original = report(live_server, **HAZARD[1])  # 江零 (jiangling)
    elsewhere = report(live_server)  # 千家街 (qianjiajie), marked by the street as a duplicate of the first
    marked = live_server.post(f"/api/v1/cases/{elsewhere['id']}/actions", headers=leader, json={
        "action": "reject", "reason": "duplicate", "duplicate_of": original["receipt"]})
    assert marked.status_code == 200, marked.text
    seen_by_street = live_server.get(f"/api/v1/cases/{original['id']}", headers=leader).json()
    assert [d["receipt"] for d in seen_by_street["duplicates"]] == [elsewhere["receipt"]]
    response = live_server.get(f"/api/v1/cases/{original['id']}", headers=staff(live_server, "jl-grid"))
    assert response.status_code == 200
    assert response.json()["duplicates"] == []
    assert elsewhere["receipt"] not in response.text and elsewhere["id"] not in response.text
