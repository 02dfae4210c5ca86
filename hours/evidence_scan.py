"""Refuse evidence that carries active content (issue 15): PDFs with scripts, launch actions or
embedded files, and any file that is also HTML (a polyglot a browser could be talked into
rendering on the platform's origin).

Certificates are scans or printed PDFs: none needs a script, a launch action or an attachment,
so such a file is refused outright rather than cleaned. The scan reads the raw bytes with PDF
names normalised (`/J#61vaScript` is `/JavaScript`), and also the decompressed object streams
(`/Type /ObjStm`), where a PDF 1.5 file can hide its dictionaries; decompression is bounded.
"""

from __future__ import annotations

import re
import zlib

from django.utils.translation import gettext as _

# PDF names that make a document act: run a script, start a program, carry files, or act on open.
_ACTIVE_NAMES = {
    b"/JavaScript": "JavaScript",
    b"/JS": "JavaScript",
    b"/Launch": "Launch",
    b"/EmbeddedFile": "EmbeddedFile",
    b"/EmbeddedFiles": "EmbeddedFile",
    b"/RichMedia": "RichMedia",
    b"/XFA": "XFA",
    b"/AA": "AA",
    b"/SubmitForm": "SubmitForm",
    b"/ImportData": "ImportData",
}
_NAME = re.compile(rb"/[^\s/\[\]()<>{}%]+")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_ACTION_KIND = re.compile(rb"/S\s*/([A-Za-z]+)")
_OPEN_ACTION = re.compile(rb"/OpenAction\s*<<(.{0,2000}?)>>", re.S)
# Markup a browser would run if it ever sniffed the file as HTML (or SVG).
_MARKUP = re.compile(rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta|!doctype\s+html)[\s>/]", re.I)
_STREAM = re.compile(rb"<<(.{0,4000}?)>>\s*stream\r?\n", re.S)
_OBJSTM = re.compile(rb"/Type\s*/ObjStm")
MAX_INFLATED = 64 * 1024 * 1024  # all object streams of one file together


def _names(data: bytes) -> set[bytes]:
    found = set()
    for name in _NAME.findall(data):
        if b"#" in name:
            name = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        found.add(name)
    return found


def _object_streams(data: bytes):
    """The decompressed content of each object stream (FlateDecode), up to MAX_INFLATED in all."""
    budget = MAX_INFLATED
    for match in _STREAM.finditer(data):
        header = match.group(1)
        if not _OBJSTM.search(_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), header)):
            continue
        start = match.end()
        end = data.find(b"endstream", start)
        raw = data[start : end if end != -1 else len(data)]
        try:
            inflater = zlib.decompressobj()
            inflated = inflater.decompress(raw, budget + 1)
        except zlib.error:
            continue
        if len(inflated) > budget:
            yield None  # more than any certificate holds: treat as hostile
            return
        budget -= len(inflated)
        yield inflated


def active_content(content: bytes, content_type: str) -> str | None:
    """What makes the file active (a short name for the message), or None for a passive file."""
    if _MARKUP.search(content):
        return "HTML"
    if content_type != "application/pdf":
        return None
    parts = [content]
    for inflated in _object_streams(content):
        if inflated is None:
            return "ObjStm"
        if _MARKUP.search(inflated):
            return "HTML"
        parts.append(inflated)
    for part in parts:
        names = _names(part)
        for name, label in _ACTIVE_NAMES.items():
            if name in names:
                return label
        # An open action that is an action dictionary (a script, a launch, a URI) rather than a
        # plain "open at this page" destination array.
        for action in _OPEN_ACTION.findall(part):
            kind = _ACTION_KIND.search(_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), action))
            if kind and kind.group(1) != b"GoTo":
                return "OpenAction"
    return None


def active_content_message(name: str, label: str) -> str:
    return _("文件“%(name)s”含有脚本、附件或网页等可执行内容（%(what)s），不能作为证明材料；请上传扫描件或打印成的PDF。") % {
        "name": name,
        "what": label,
    }
