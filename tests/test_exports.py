"""Exports: CSV with a BOM and XLSX, filtered like the list, within the caller's scope, personal data
only for those who answer for the case."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.casework import CONSULTATION, ENTERPRISE, HAZARD, seed, token_for


@pytest.fixture()
def cases(runtime, stub_worker, settings):
    return seed(runtime, settings, *[("hazard", h) for h in HAZARD], ("consultation", CONSULTATION[1]),
                ("enterprise", ENTERPRISE[0]))


def csv_rows(client, headers, query=""):
    response = client.get(f"/api/v1/exports/cases.csv{query}", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_export_is_filtered_and_scoped(client, engine, cases):
    everything = csv_rows(client, token_for(engine, "street-leader"))
    assert len(everything) == 1 + 7
    hazards = csv_rows(client, token_for(engine, "street-leader"), "?kind=hazard&community=qianjiajie")
    assert [r[0] for r in hazards[1:]] == [cases[0]["receipt"]]
    grid = csv_rows(client, token_for(engine, "qjj-grid"))
    assert [r[0] for r in grid[1:]] == [cases[0]["receipt"]]
    assert client.get("/api/v1/exports/cases.csv?community=jiangling",
                      headers=token_for(engine, "qjj-grid")).status_code == 403


def test_personal_data_is_masked_for_staff_who_do_not_answer_for_the_case(client, engine, cases):
    leader = {r[0]: r for r in csv_rows(client, token_for(engine, "street-leader"))[1:]}
    grid = {r[0]: r for r in csv_rows(client, token_for(engine, "qjj-grid"))[1:]}
    receipt = cases[0]["receipt"]
    assert grid[receipt][13:15] == ["王阿姨", "13871234567"]
    assert leader[receipt][13:15] == ["王**", "138****4567"]


def test_the_xlsx_export_holds_the_same_rows(client, engine, cases):
    response = client.get("/api/v1/exports/cases.xlsx?kind=hazard", headers=token_for(engine, "street-leader"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data()))["cases"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 5 and rows[0][0] == "回执码 receipt"
    assert {r[0] for r in rows[1:]} == {c["receipt"] for c in cases[:5]}


def test_an_xlsx_export_longer_than_a_sheet_goes_on_in_the_next_under_the_header(client, engine, cases,
                                                                                monkeypatch):
    from functions import exports

    monkeypatch.setattr(exports, "SHEET_ROWS", 3)  # Excel's 1,048,576, header included, made small
    response = client.get("/api/v1/exports/cases.xlsx", headers=token_for(engine, "street-leader"))
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["cases", "cases 2", "cases 3", "cases 4"]
    sheets = [list(book[name].iter_rows(values_only=True)) for name in book.sheetnames]
    assert [len(rows) for rows in sheets] == [3, 3, 3, 2]
    assert all(rows[0][0] == "回执码 receipt" for rows in sheets)
    everything = csv_rows(client, token_for(engine, "street-leader"))
    assert [row[0] for rows in sheets for row in rows[1:]] == [row[0] for row in everything[1:]]
