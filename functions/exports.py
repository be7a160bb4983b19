"""Case exports for staff: CSV (UTF-8 with a BOM, so Excel reads Chinese) and XLSX, filtered like the
list, streamed batch by batch so a large export never sits in memory whole.

Every cell is text a resident or staff member may have typed: the XLSX stores it as text, never as a
formula, and a CSV cell a spreadsheet would take for one starts with a quote (OWASP, CSV injection)."""

from __future__ import annotations

import csv
import functools
import io
import os
import tempfile

from flask import Blueprint, Response, g, stream_with_context

from functions.auth import staff_required
from functions.cases import load_filters
from functions.services import services
from minqing.domain import access, workflow
from minqing.privacy import mask_name, mask_phone
from schemas.choices import CASE_STATUSES

blueprint = Blueprint("exports", __name__)

HEADER = ["回执码 receipt", "类型 kind", "社区 community", "类别 category", "优先级 priority", "状态 status",
          "提交时间 submitted_at", "更新时间 updated_at", "期限 due_at", "超期 overdue", "责任人 assignees",
          "描述 description", "地址 address", "联系人 contact", "电话 phone", "企业 enterprise"]
# The most rows a sheet Excel opens can hold, its header counted.
SHEET_ROWS = 1_048_576
# What makes Excel, LibreOffice or Google Sheets read a CSV cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def batches(filters: dict):
    """The header alone, then lists of rows, one per matching case, read from the database a batch at a time."""
    from minqing.store import base, cases, scopes

    at = base.now()
    staff = g.staff
    yield [HEADER]
    with services().engine.connect() as connection:
        for batch in cases.iter_cases(connection, filters, scopes.scope_clause(staff), at):
            yield [_shaped(case, assigned, at, access.sees_personal_data(staff, assigned)) for case, assigned in batch]


def rows(filters: dict):
    """Header, then one list per matching case."""
    for batch in batches(filters):
        yield from batch


def csv_cell(value: str) -> str:
    """The value as a CSV cell no spreadsheet will evaluate: a leading quote when it could start a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_cell(sheet, value: str):
    """A text cell. openpyxl stores a string starting with "=" as a formula and one of Excel's error codes
    ("#N/A") as an error: only those need a cell object told it is text; the rest go as plain strings, which
    openpyxl writes as text a good deal faster."""
    if not value.startswith("=") and value not in _error_codes():
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


@functools.cache
def _error_codes() -> frozenset:
    # Imported once, not per cell: openpyxl loads only when an XLSX is asked for.
    from openpyxl.cell.cell import ERROR_CODES

    return frozenset(ERROR_CODES)


def _shaped(case, assigned: list[str], at, sees_personal_data: bool) -> list[str]:
    # The row by position (cases.EXPORTED), not by name: a tenth of a whole export went on the lookups.
    _, receipt, kind, community, category, priority, status, submitted_at, updated_at, due_at, payload, *_ = case
    # Only the cells' fields are masked (as access.masked_payload masks them), not the whole form copied.
    contact = payload.get("contact") or {}
    description = payload.get("description", "")
    address = (payload.get("location") or {}).get("address", "")
    name, phone = contact.get("name", ""), contact.get("phone", "")
    if not sees_personal_data:
        description, address = access.masked_text(description), access.masked_text(address)
        name, phone = mask_name(name), mask_phone(phone)
    open_past_due = due_at is not None and due_at < at and workflow.is_open(status)
    return [receipt, kind, community, category, priority, _status(status), submitted_at.isoformat(),
            updated_at.isoformat(), due_at.isoformat() if due_at else "", "yes" if open_past_due else "no",
            " ".join(assigned), description, address, name, phone, (payload.get("enterprise") or {}).get("name", "")]


@functools.cache
def _status(code: str) -> str:
    label = CASE_STATUSES.get(code)
    return f"{label.zh} {code}" if label else code


@blueprint.get("/api/v1/exports/cases.csv")
@staff_required
def cases_csv():
    filters = load_filters(g.staff)

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"
        # One chunk per batch of rows, not one per row.
        for batch in batches(filters):
            writer.writerows([("'" + value) if value.startswith(FORMULA_STARTS) else value for value in row]
                             for row in batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


@blueprint.get("/api/v1/exports/cases.xlsx")
@staff_required
def cases_xlsx():
    from openpyxl import Workbook

    filters = load_filters(g.staff)
    # openpyxl's write-only mode streams rows to a temporary file; the answer is then sent from that file.
    book = Workbook(write_only=True)
    found = rows(filters)
    header = next(found)
    sheet = book.create_sheet("cases")
    sheet.append(header)
    held = 1
    for row in found:
        if held == SHEET_ROWS:
            # Past Excel's limit the export goes on in "cases 2", "cases 3"…, each under the header: a
            # longer sheet would not open.
            sheet = book.create_sheet(f"cases {len(book.worksheets) + 1}")
            sheet.append(header)
            held = 1
        sheet.append([xlsx_cell(sheet, value) for value in row])
        held += 1
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    book.save(path)

    def chunks():
        try:
            with open(path, "rb") as file:
                while chunk := file.read(64 * 1024):
                    yield chunk
        finally:
            os.unlink(path)

    return Response(chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="cases.xlsx"',
                             "Content-Length": str(os.path.getsize(path))})
