"""Hostile workbooks, built by hand (a zip of a few XML parts), for the spreadsheet-bomb tests."""

from __future__ import annotations

import functools
import io
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_HEADER_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'


def _sheet(rows: str = _HEADER_ROW, dimension: str | None = "A1", padding: int = 0) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{rows}</sheetData>{' ' * padding}</worksheet>"
    )


def _shared_strings(n: int, declared: int | None = None, text: str = "证件号") -> str:
    declared = n if declared is None else declared
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{declared}" uniqueCount="{declared}">' + f"<si><t>{text}</t></si>" * n + "</sst>"
    )


def _workbook(sheet: str, shared_strings: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared_strings if shared_strings is not None else _shared_strings(1))
    return buffer.getvalue()


@functools.cache
def dimension_bomb() -> bytes:
    """The issue's 1.5 KB file: one cell, a sheet dimension claiming every cell of a sheet."""
    return _workbook(_sheet(dimension="A1:XFD1048576"))


@functools.cache
def corner_bomb() -> bytes:
    """No dimension at all, one cell at A1 and one at XFD1048576: calamine allocates 512 GB and aborts."""
    rows = _HEADER_ROW + '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row>'
    return _workbook(_sheet(rows, dimension=None))


@functools.cache
def shared_strings_bomb(n: int = 2_500_000) -> bytes:
    """2.5 million shared strings (42 MB of XML) in a file of about 100 KB."""
    return _workbook(_sheet(), _shared_strings(n))


@functools.cache
def shared_strings_understated_bomb(n: int = 2_500_000) -> bytes:
    """The same, with an `<sst>` header that claims a single string."""
    return _workbook(_sheet(), _shared_strings(n, declared=1))


@functools.cache
def huge_part_bomb(mb: int = 150) -> bytes:
    """A sheet part of 150 MB of blanks (150 KB compressed)."""
    return _workbook(_sheet(padding=mb * 1024 * 1024))


BOMBS = {
    "dimension": dimension_bomb,
    "corner": corner_bomb,
    "shared_strings": shared_strings_bomb,
    "shared_strings_understated": shared_strings_understated_bomb,
    "huge_part": huge_part_bomb,
}
