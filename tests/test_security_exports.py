"""Security: exports carry no live formulas, masking catches every way a phone or ID
number is written, a case's duplicates stay within the caller's scope, and a bad cursor is a 400.
Through the real path: `minqing serve` over HTTP, on the embedded backend and on PostgreSQL."""

import base64
import copy
import csv
import io
import json
import zipfile
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from minqing.store.engine import make_engine
from schemas.cases import CaseFilterSchema
from tests.casework import HAZARD, token_for
from tests.conftest import backend_settings, wait_until

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


# 2. Masking: every way a resident writes a phone or ID number.

def digits(count: int, first: str = "0123456789"):
    return st.tuples(st.sampled_from(first), st.text("0123456789", min_size=count - 1, max_size=count - 1)).map("".join)


FULL_WIDTH = str.maketrans("0123456789+()-", "０１２３４５６７８９＋（）－")
ASCII = {code + 0xFEE0: code for code in range(0x21, 0x7F)}
MOBILES = st.tuples(st.sampled_from("3456789"), digits(9), st.sampled_from(
    ["{}", "{0:.3} {1:.4} {2}", "{0:.3}-{1:.4}-{2}", "+86 {}", "+86{}", "+86 {0:.3}-{1:.4}-{2}", "86-{}", "0086 {}",
     "(+86){}"]))
LANDLINES = st.tuples(st.sampled_from(["010", "020", "021", "027", "0755", "0311", "0716"]),
                      digits(7, "23456789") | digits(8, "23456789"),
                      st.sampled_from(["{a}-{n}", "({a}){n}", "{a} {h} {r}", "{a}{n}", "({a}) {h}-{r}",
                                       "+86 {a1} {n}", "+86-{a1}-{n}"]))
BIRTHDAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
IDS = st.tuples(digits(6, "12345678"), BIRTHDAYS, digits(3), st.sampled_from("0123456789Xx"), st.booleans())
# (as written, the digits that must not survive together, how many digits become stars)
NUMBERS = st.one_of(
    MOBILES.map(lambda a: (a[2].format("1" + a[0] + a[1], a[1][1:], a[1][5:]), "1" + a[0] + a[1], 4)),
    LANDLINES.map(lambda a: (a[2].format(a=a[0], a1=a[0][1:], n=a[1], h=a[1][:-4], r=a[1][-4:]), a[1], len(a[1]) - 4)),
    IDS.map(lambda a: (a[0] + a[1].strftime("%Y%m%d") + a[2] + a[3], None, 16) if a[4] else
            (a[0] + a[1].strftime("%y%m%d") + a[2], None, 13)),
)
# Around a number: Chinese or English text, and the kind of numbers that must stay as they are.
WORDS = st.text(st.sampled_from("围墙裂缝楼道电话联系我请打身份证号码栋单元 abcdefghijklmnopqrstuvwyzABCW,.;:，。：！"), max_size=12)
KEPT = st.sampled_from(["2026-11-08", "14:30", "HK3D-9F2A-XQ4M", "3栋", "1200元", "91420106MA49A1B2C0", "20261108",
                        "V-0317", "2026-11-08T09:30:00+08:00", "0201室", "¥1,234.50", ""])
SEPARATORS = st.sampled_from(" ，：:。(")
BEFORE = st.tuples(WORDS, KEPT, WORDS, SEPARATORS).map(lambda p: f"{p[0]}{p[1]} {p[2]}{p[3]}")
AFTER = st.tuples(SEPARATORS, WORDS, KEPT, WORDS).map(lambda p: f"{p[0]}{p[1]}{p[2]} {p[3]}")


@settings(max_examples=500, deadline=None)
@given(number=NUMBERS, before=BEFORE, after=AFTER, full_width=st.booleans())
def test_phone_and_id_numbers_in_free_text_are_masked_and_nothing_else_changes(number, before, after, full_width):
    from minqing.privacy import mask_personal_numbers_in

    written, secret, hidden = number
    if full_width:
        written = written.translate(FULL_WIDTH)
    masked = mask_personal_numbers_in(f"{before}{written}{after}")
    assert masked.startswith(before) and masked.endswith(after) and len(masked) == len(before + written + after)
    shown = masked[len(before):len(masked) - len(after)]
    assert shown.count("*") == hidden, (written, shown)
    assert all(w == s or (s == "*" and w.isdigit()) for w, s in zip(written, shown))  # only digits become stars
    whole = "".join(c for c in written.translate(ASCII) if c.isalnum())
    assert (secret or whole) not in "".join(c for c in shown.translate(ASCII) if c.isalnum())


@settings(max_examples=300, deadline=None)
@given(text=st.lists(st.one_of(KEPT, WORDS), max_size=6).map(" ".join))
def test_text_without_phone_or_id_numbers_is_left_verbatim(text):
    from minqing.privacy import mask_personal_numbers_in

    assert mask_personal_numbers_in(text) == text


IN_CLEAR = ["138 7123 4567", "+86 138-7123-4567", "+8613871234567", "86-13871234567", "027-88881234",
            "(027)88881234", "027 8888 1234", "42010619900101123X", "420106900101123"]
DIGITS_IN_CLEAR = ["7123", "8888"]


def test_no_phone_or_id_number_is_shown_in_clear_to_the_public_or_to_staff_who_need_not_see_it(live_server):
    description = "围墙裂缝 2026-11-08 14:30，3栋。" + "；".join(f"电话{n}" for n in IN_CLEAR[:7]) + \
                  f"；身份证{IN_CLEAR[7]}，老证{IN_CLEAR[8]}；营业执照91420106MA49A1B2C0"
    case = report(live_server, description=description)
    # The resident's own words are public only once staff publish them: then masked like everywhere else.
    published = live_server.post(f"/api/v1/cases/{case['id']}/actions", json={"action": "publish"},
                                 headers=staff(live_server, "qjj-grid"))
    assert published.status_code == 200, published.text
    public = [r for r in live_server.get("/open311/v2/requests.json").json() if r["service_request_id"] == case["receipt"]]
    leader = live_server.get(f"/api/v1/cases/{case['id']}", headers=staff(live_server, "street-leader")).json()
    assert leader["personal_data"] is False
    exported = live_server.get("/api/v1/exports/cases.csv", headers=staff(live_server, "street-leader"))
    [row] = [r for r in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))) if r[0] == case["receipt"]]
    for shown in (public[0]["description"], leader["payload"]["description"], row[11]):
        assert not [n for n in IN_CLEAR + DIGITS_IN_CLEAR if n in shown], shown
        assert "2026-11-08 14:30，3栋" in shown and "91420106MA49A1B2C0" in shown
    assert "电话138 **** 4567；电话+86 138-****-4567；电话+86138****4567；电话86-138****4567；电话027-****1234" in \
           leader["payload"]["description"]
    # The notifications written to the log (the demo street's staff without a channel) are masked as well.
    logged = wait_until(lambda: (text := open(live_server.log.name).read()) and case["receipt"] in text and text)
    assert not [n for n in IN_CLEAR if n in logged]
