"""The streamed xlsx writer (`cpd.xlsx.stream_xlsx`) behind every download and `workbook_bytes`: what Excel
(here openpyxl and calamine) reads back — values, numbers as numbers, a bold header where asked, formulas
neutralised."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from cpd.xlsx import stream_xlsx, workbook_bytes


def test_workbook_bytes_has_a_bold_header_and_the_rows_values():
    data = workbook_bytes(["姓名", "学时", "说明"], [["张三", Decimal("12.5"), "=SUM(A1)"], ["李四", 3, None]], title="名单")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "名单"
    assert [c.font.bold for c in sheet[1]] == [True, True, True]
    assert [c.font.bold for c in sheet[2]] == [False, False, False]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "学时", "说明"],
        ["张三", 12.5, "'=SUM(A1)"],
        ["李四", 3, None],
    ]
    assert sheet["B2"].data_type == "n" and sheet["C2"].data_type == "s"
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[1][:2] == ["张三", 12.5]


def test_the_exports_header_is_plain():
    buffer = io.BytesIO()
    stream_xlsx(buffer, "t", ["a", "b"], iter([[1, "x"]]))
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.font.bold for c in sheet[1]] == [False, False]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [["a", "b"], [1, "x"]]
