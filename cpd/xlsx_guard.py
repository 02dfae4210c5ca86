"""Refuse a hostile workbook before the Excel reader sees it (issue 15: spreadsheet bombs).

python-calamine builds the whole first sheet as a dense grid and keeps every shared string in
memory, so a 2 KB file with one cell at A1 and one at XFD1048576 asks for 512 GB (the process
aborts), and 1 MB of repeated shared strings takes over 600 MB. Nothing here reads a cell: the
zip central directory gives the part count and the declared sizes, and each XML part is
decompressed in 1 MB chunks and scanned with regular expressions for what decides the reader's
memory — the sheet's `<dimension>`, the rows' and cells' positions, the shared strings' `count`
and number. Memory stays at a few MB whatever the file claims. Limits are in settings (`XLSX_*`).

`inspect_workbook(..., stream=False)` checks only the directory and each part's first bytes (cheap:
used in the web request); `stream=True` (the reader's own check) also decompresses every part,
so a directory that lies about sizes, or cells beyond the declared dimension, are caught too.
"""

from __future__ import annotations

import re
import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHUNK = 1 << 20
MAX_TAG = 64 * 1024  # no legitimate start tag is longer; a longer one only serves to defeat the scan
HEAD = 64 * 1024  # `<dimension>` and `<sst>` come first in their parts

_NAME = rb"<(?:[A-Za-z_][\w.\-]*:)?"  # calamine matches local names: `<x:row>` is a row too
_TAG = re.compile(_NAME + rb"(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{0,3})\$?(\d*)["']""")
_DIMENSION = re.compile(_NAME + rb"""dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_SST = re.compile(_NAME + rb"sst\b([^>]*)>")
_SST_COUNT = re.compile(rb"""\b(?:count|uniqueCount)\s*=\s*["'](\d+)["']""")
_SI = re.compile(_NAME + rb"si(?=[\s/>])")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f}"


def _column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Limits:
    def __init__(self, max_rows: int | None):
        self.parts = settings.XLSX_MAX_PARTS
        self.total = settings.XLSX_MAX_UNCOMPRESSED_BYTES
        self.part = settings.XLSX_MAX_PART_BYTES
        self.columns = settings.XLSX_MAX_COLUMNS
        self.cells = settings.XLSX_MAX_CELLS
        self.strings = settings.XLSX_MAX_SHARED_STRINGS
        self.strings_bytes = settings.XLSX_MAX_SHARED_STRINGS_BYTES
        # The header is a row too; a sheet of `max_rows` data rows spans max_rows + 1.
        self.rows = (max_rows + 1) if max_rows is not None else 1_048_576

    def check_extent(self, rows: int, columns: int, where: str) -> None:
        if rows > self.rows:  # counted in data rows, as the import's own limit is: the header is row 1
            raise _refuse(
                _("工作表%(where)s有 %(rows)s 行数据，超过上限 %(limit)s 行，请删除多余的行或拆分后分批导入。")
                % {"where": where, "rows": f"{rows - 1:,}", "limit": f"{self.rows - 1:,}"}
            )
        if columns > self.columns:
            raise _refuse(
                _("工作表%(where)s有 %(cols)s 列，超过上限 %(limit)s 列，请删除多余的列后再导入。")
                % {"where": where, "cols": f"{columns:,}", "limit": f"{self.columns:,}"}
            )
        if rows * columns > self.cells:
            raise _refuse(
                _("工作表%(where)s的单元格范围过大（%(cells)s 个，上限 %(limit)s 个），请拆分后分批导入。")
                % {"where": where, "cells": f"{rows * columns:,}", "limit": f"{self.cells:,}"}
            )


def _is_shared_strings(name: str) -> bool:
    return name.lower().rsplit("/", 1)[-1].startswith("sharedstrings")


def inspect_workbook(fileobj: IO[bytes], *, max_rows: int | None = None, stream: bool = True) -> None:
    """Raise ValidationError({"file": message}) for a workbook beyond the limits; read no cell.

    `fileobj` must be seekable; it is left at position 0.
    """
    limits = _Limits(max_rows)
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
            _check_directory(infos, limits)
            for info in infos:
                if info.is_dir():
                    continue
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _refuse(_("文件使用了不支持的压缩方式，请在 Excel 或 WPS 中另存为 .xlsx 后再导入。"))
                _check_part(archive, info, limits, stream=stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise _refuse(_("文件已损坏或不是 Excel（.xlsx）文件，请使用下载的模板。")) from exc
    finally:
        fileobj.seek(0)


def _check_directory(infos: list[zipfile.ZipInfo], limits: _Limits) -> None:
    if len(infos) > limits.parts:
        raise _refuse(
            _("文件包含 %(n)s 个部件，超过上限 %(limit)s 个，不是正常的 Excel 文件。") % {"n": len(infos), "limit": limits.parts}
        )
    total = 0
    for info in infos:
        part_limit = limits.strings_bytes if _is_shared_strings(info.filename) else limits.part
        if info.file_size > part_limit:
            raise _refuse(_part_too_big(info.filename, info.file_size, part_limit))
        total += info.file_size
    if total > limits.total:
        raise _refuse(
            _("文件解压后共 %(mb)s MB，超过上限 %(limit)s MB，请拆分后分批导入。")
            % {"mb": _mb(total), "limit": _mb(limits.total)}
        )


def _part_too_big(name: str, size: int, limit: int) -> str:
    return _("文件中的部件“%(part)s”解压后有 %(mb)s MB，超过上限 %(limit)s MB，请拆分后分批导入。") % {
        "part": name[:100],
        "mb": _mb(size),
        "limit": _mb(limit),
    }


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: _Limits, *, stream: bool) -> None:
    name = info.filename
    if not name.lower().endswith(".xml"):
        if stream:
            _drain(archive, info)
        return
    shared = _is_shared_strings(name)
    scanner = _SharedStrings(limits) if shared else _Sheet(limits, name)
    with archive.open(info) as fh:
        read = 0
        tail = b""
        while True:
            chunk = fh.read(CHUNK if stream else HEAD - read)
            if not chunk:
                break
            read += len(chunk)
            data = tail + chunk
            # Scan up to the last complete tag; keep a tag cut by the chunk boundary for the next round.
            lt, gt = data.rfind(b"<"), data.rfind(b">")
            if lt > gt:
                data, tail = data[:lt], data[lt:]
                if len(tail) > MAX_TAG:
                    raise _refuse(_("文件已损坏或不是 Excel（.xlsx）文件，请使用下载的模板。"))
            else:
                tail = b""
            scanner.feed(data)
            if not stream and read >= HEAD:
                return
        _check_stream_end(fh, info)
    scanner.finish()


def _drain(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with archive.open(info) as fh:
        while fh.read(CHUNK):
            pass
        _check_stream_end(fh, info)


def _check_stream_end(fh, info: zipfile.ZipInfo) -> None:
    """The directory's size must be the real one: zipfile stops at the declared size, the Excel
    reader does not, so a part that goes on after it is refused (its check sum may be forged)."""
    decompressor = getattr(fh, "_decompressor", None)
    if info.compress_type == zipfile.ZIP_DEFLATED and decompressor is not None and not decompressor.eof:
        raise _refuse(_part_too_big(info.filename, info.file_size + 1, info.file_size))


class _Sheet:
    """Track the area the reader will allocate: rows x columns from the first to the last cell."""

    def __init__(self, limits: _Limits, name: str):
        self.limits = limits
        self.where = ""
        self.row = 0
        self.col = 0
        self.max_row = 0
        self.max_col = 0
        self.seen_dimension = False

    def feed(self, data: bytes) -> None:
        if not self.seen_dimension:
            found = _DIMENSION.search(data)
            if found:
                self.seen_dimension = True
                self._check_dimension(found.group(1).decode("ascii", "replace"))
        if b"<" not in data:
            return
        row, col, max_row, max_col = self.row, self.col, self.max_row, self.max_col
        for tag, attrs in _TAG.findall(data):
            ref = _REF.search(attrs)
            if tag == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                if row > max_row:
                    max_row = row
            else:
                col = _column_number(ref.group(1)) if ref and ref.group(1) else col + 1
                if ref and ref.group(2):
                    row = max(row, int(ref.group(2)))
                    if row > max_row:
                        max_row = row
                if col > max_col:
                    max_col = col
                    if col > self.limits.columns:
                        self.limits.check_extent(max_row, col, self.where)
        self.row, self.col, self.max_row, self.max_col = row, col, max_row, max_col
        self.limits.check_extent(max_row, max_col, self.where)

    def _check_dimension(self, ref: str) -> None:
        corners = [_CELL_REF.fullmatch(part.strip()) for part in ref.split(":")]
        if not corners or any(c is None for c in corners):
            return  # the reader ignores a malformed dimension; the cells themselves are still checked
        found = [c for c in corners if c is not None]
        rows = [int(c.group(2)) for c in found]
        cols = [_column_number(c.group(1)) for c in found]
        where = _("声明的范围 %(ref)s ") % {"ref": ref[:40]}
        self.limits.check_extent(max(rows) - min(rows) + 1, max(cols) - min(cols) + 1, where)

    def finish(self) -> None:
        self.limits.check_extent(self.max_row, self.max_col, self.where)


class _SharedStrings:
    def __init__(self, limits: _Limits):
        self.limits = limits
        self.count = 0
        self.seen_header = False

    def _check(self, n: int) -> None:
        if n > self.limits.strings:
            raise _refuse(
                _("文件中的共享字符串有 %(n)s 个，超过上限 %(limit)s 个，请拆分后分批导入。")
                % {"n": f"{n:,}", "limit": f"{self.limits.strings:,}"}
            )

    def feed(self, data: bytes) -> None:
        if not self.seen_header:
            found = _SST.search(data)
            if found:
                self.seen_header = True
                for declared in _SST_COUNT.findall(found.group(1)):
                    self._check(int(declared))
        if b":si" in data:  # prefixed names: the slower, general count
            self.count += len(_SI.findall(data))
        else:
            self.count += data.count(b"<si>") + data.count(b"<si ") + data.count(b"<si/")
        self._check(self.count)

    def finish(self) -> None:
        self._check(self.count)
