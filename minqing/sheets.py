"""A spreadsheet (XLSX) of text cells written as it is read, row after row, straight into its zip: memory
stays flat whatever the number of rows, and a cell costs a few string operations, where openpyxl builds an
object and an XML element for each (an export of 100,000 cases took it 40 s).

Every cell is an inline string, never a number or a formula: what a resident typed stays as typed."""

from __future__ import annotations

import re
import zipfile

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/worksheet" '
        f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{_DOC}/styles" Target="styles.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
# Characters XML 1.0 cannot hold (openpyxl refuses them too): dropped from a cell.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _column(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write(path: str, sheet_name: str, batches) -> None:
    """Write the XLSX at `path`: one sheet named `sheet_name`, its rows (lists of str) from `batches`,
    an iterable of lists of rows."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, body in _PARTS.items():
            book.writestr(name, _HEAD + body)
        book.writestr("xl/workbook.xml", _HEAD + (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
            f'<sheet name="{_text(sheet_name)}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_HEAD + f'<worksheet xmlns="{_MAIN}"><sheetData>').encode())
            number, columns = 0, []
            for batch in batches:
                parts = []
                for row in batch:
                    number += 1
                    while len(columns) < len(row):
                        columns.append(_column(len(columns) + 1))
                    parts.append(f'<row r="{number}">')
                    for column, value in zip(columns, row):
                        if not value:
                            parts.append(f'<c r="{column}{number}" t="inlineStr" />')
                        elif value[0].isspace() or value[-1].isspace():
                            parts.append(f'<c r="{column}{number}" t="inlineStr"><is><t xml:space="preserve">'
                                         f'{_text(value)}</t></is></c>')
                        else:
                            parts.append(f'<c r="{column}{number}" t="inlineStr"><is><t>{_text(value)}</t></is></c>')
                    parts.append("</row>")
                sheet.write("".join(parts).encode())
            sheet.write(b"</sheetData></worksheet>")
