"""Reading and writing the Excel files users exchange with the platform (imports, templates, exports).

Imports report every problem as (Excel row number, column header, message); the header
is row 1. Files are read with openpyxl in read-only mode, row by row.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from .xlsx_guard import inspect_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RowErrors:
    """Collects (row, column, message) problems in Excel's numbering."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.items.append({"row": row, "column": column, "message": str(message)})

    def __bool__(self) -> bool:
        return bool(self.items)

    def sorted(self, headers: Sequence[str]) -> list[dict[str, Any]]:
        order = {h: i for i, h in enumerate(headers)}
        return sorted(self.items, key=lambda e: (e["row"], order.get(e["column"], 99)))


def check_upload(uploaded, *, max_bytes: int, field: str = "file", max_rows: int | None = None) -> None:
    """Refuse at once what is too big or not an xlsx (zip) file, before reading a row.

    The zip directory and the head of each part are checked too (`inspect_workbook`, cheap and
    bounded in memory), so a spreadsheet bomb is refused in the request that uploads it.
    """
    size = getattr(uploaded, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError({field: _("文件超过 %(mb)s MB，请拆分后分批导入。") % {"mb": max_bytes // (1024 * 1024)}})
    head = uploaded.read(4)
    uploaded.seek(0)
    if head != b"PK\x03\x04":
        raise ValidationError({field: _("文件不是 Excel（.xlsx）格式，请使用下载的模板。")})
    try:
        inspect_workbook(uploaded, max_rows=max_rows, stream=False)
    except ValidationError as exc:
        raise ValidationError({field: exc.message_dict["file"]}) from exc


# A cell a spreadsheet program would read as a formula (or DDE command) when it starts with one of
# these: OWASP "CSV injection". Excel and WPS honour them in CSV files and in typed-in text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """The value to write into an exported CSV or xlsx cell: a text starting with a formula trigger
    gets a leading apostrophe (OWASP's advice), so `=cmd|' /C calc'!A0` shows as text and runs
    nothing. Only text changes: numbers (negative ones too) stay numbers. Every export uses this.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_row(row: Sequence[Any]) -> list[Any]:
    return [neutralise_formula(v) for v in row]


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value).strip()


def parse_date(value: Any) -> datetime.date | None:
    """A date cell, or text like 2026-03-01 / 2026/3/1 / 2026.3.1. Raises ValueError for anything else."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    if not text:
        return None
    parts = text.split("-")
    if len(parts) != 3:
        raise ValueError(text)
    return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))


def parse_decimal(value: Any) -> Decimal:
    try:
        number = Decimal(cell_text(value))
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


def iter_rows(
    fileobj, *, headers: Sequence[str], required_headers: Sequence[str] | None = None, max_rows: int
) -> Iterator[tuple[int, tuple]]:
    """Yield (Excel row number, values in `headers` order) from the first sheet; blank rows skipped.

    Read with python-calamine (a Rust reader, about twenty times faster than openpyxl on big
    sheets). Raises ValidationError for an unreadable file, a missing header or more than
    `max_rows` data rows — the row count is known before any row is read. A spreadsheet bomb is
    refused before calamine sees it (`inspect_workbook`: calamine would allocate the whole grid).
    """
    inspect_workbook(fileobj, max_rows=max_rows)
    try:
        workbook = CalamineWorkbook.from_filelike(fileobj)
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own errors for zip, XML and format problems
        raise ValidationError({"file": _("无法读取该 Excel 文件：%(error)s") % {"error": exc}}) from exc
    too_many = ValidationError({"file": _("文件超过 %(limit)s 行，请拆分后分批导入。") % {"limit": f"{max_rows:,}"}})
    if sheet.height - 1 > max_rows:
        raise too_many
    first_row = (sheet.start[0] + 1) if sheet.start else 1  # the sheet's used range may not begin at A1
    rows = sheet.iter_rows()
    header = [cell_text(v) for v in (next(rows, None) or ())]
    needed = required_headers if required_headers is not None else headers
    missing = [h for h in needed if h not in header]
    if missing:
        raise ValidationError({"file": _("表头缺少列：%(cols)s。请使用下载的模板。") % {"cols": "、".join(missing)}})
    positions = [header.index(h) if h in header else None for h in headers]
    width = len(header)
    for offset, values in enumerate(rows, start=1):
        if all(v in (None, "") for v in values):
            continue
        padded = tuple(None if v == "" else v for v in values) + (None,) * width
        yield first_row + offset, tuple(padded[p] if p is not None else None for p in positions)


def workbook_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]] = (), title: str = "Sheet1") -> bytes:
    """A one-sheet xlsx with a bold header row (templates, small exports), streamed (`stream_xlsx`: openpyxl's
    write-only mode took 100,000 Python calls for a school's notice of 100 rows); text cells that would
    start a formula are neutralised (`neutralise_formula`)."""
    buffer = io.BytesIO()
    stream_xlsx(buffer, title, headers, rows, bold_header=True)
    return buffer.getvalue()


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
}
_XLSX_STYLES = (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="{fonts}"><font><sz val="11"/><name val="Calibri"/></font>{bold_font}</fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="{xfs}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>{bold_xf}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_PLAIN_STYLES = _XLSX_STYLES.format(fonts=1, bold_font="", xfs=1, bold_xf="")
# style 1: bold, for a header row (`bold_header`)
_BOLD_HEADER_STYLES = _XLSX_STYLES.format(
    fonts=2,
    bold_font='<font><b/><sz val="11"/><name val="Calibri"/></font>',
    xfs=2,
    bold_xf='<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
)
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NOT_IN_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def _xlsx_cell(ref: str, value) -> str:
    """One cell as openpyxl's write-only mode writes it: numbers as "%.16g", text as an inline string."""
    kind = type(value)
    if kind is Decimal or kind is int or kind is float:
        number = float(value)
        if number - number != 0:  # NaN or infinite: an empty number, as openpyxl writes it
            return f'<c r="{ref}" t="n"><v></v></c>'
        return f'<c r="{ref}" t="n"><v>{number:.16g}</v></c>'
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is not str and isinstance(value, int | float | Decimal):
        return _xlsx_cell(ref, float(value))
    text = neutralise_formula(_NOT_IN_XML.sub("", str(value)))
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def stream_xlsx(
    path: str | IO[bytes], title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, bold_header: bool = False
) -> None:
    """A one-sheet workbook (to a path or a binary file) streamed row by row into the zip: constant memory,
    and about ten times faster than openpyxl's write-only mode, which builds a cell object and an XML
    element per value (200,000 rows of 9 columns: 40 s there; see bench/bench_stats_export.py). The cells
    are the ones openpyxl writes (numbers, inline strings), so any reader sees the same values; a text
    that starts a formula is neutralised (`neutralise_formula`), as in every export. Moved here from
    verification.exports (which writes its exports with it) for every app's downloads; `bold_header` sets
    the header row in bold (`workbook_bytes`)."""
    sheet_title = _NOT_IN_SHEET_TITLE.sub("_", str(title))[:31] or "Sheet1"
    letters: list[str] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, xml in _XLSX_PARTS.items():
            zf.writestr(name, _XML_HEAD + xml)
        zf.writestr("xl/styles.xml", _XML_HEAD + (_BOLD_HEADER_STYLES if bold_header else _PLAIN_STYLES))
        zf.writestr(
            "xl/workbook.xml",
            _XML_HEAD + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name={quoteattr(sheet_title)} sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(
                (_XML_HEAD + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>').encode()
            )
            buffer: list[str] = []
            for n, row in enumerate(_with_header(columns, rows), start=1):
                while len(letters) < len(row):
                    letters.append(get_column_letter(len(letters) + 1))
                cells = "".join([_xlsx_cell(f"{letter}{n}", v) for letter, v in zip(letters, row, strict=False)])
                if n == 1 and bold_header:
                    cells = re.sub(r'<c r="([A-Z]+1)"', r'<c r="\1" s="1"', cells)
                buffer.append(f'<row r="{n}">{cells}</row>')
                if len(buffer) >= 1000:
                    fh.write("".join(buffer).encode())
                    buffer = []
            fh.write(("".join(buffer) + "</sheetData></worksheet>").encode())


def _with_header(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    yield columns
    yield from rows
