"""minqing.sheets writes an XLSX of text cells that spreadsheet readers take back exactly as written."""

from openpyxl import load_workbook

from minqing import sheets


def test_every_cell_comes_back_as_the_text_written(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [["回执码 receipt", "描述 description", "电话 phone"],
            ["MQ1", "=HYPERLINK(\"http://x\")", " 前后有空格 "],
            ["MQ2", "a & b < c > d", ""]]
    sheets.write(str(path), "cases", [rows[:1], rows[1:]])
    sheet = load_workbook(path)["cases"]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        rows[0], rows[1], ["MQ2", "a & b < c > d", None]]
    assert sheet["B2"].data_type == "s"  # text, not a formula


def test_characters_xml_cannot_hold_are_dropped(tmp_path):
    path = tmp_path / "t.xlsx"
    sheets.write(str(path), "cases", [[["响铃\x07符", "ok"]]])
    assert [c.value for c in next(load_workbook(path)["cases"].iter_rows())] == ["响铃符", "ok"]
