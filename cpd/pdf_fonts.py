"""The CJK font every generated PDF embeds (a subset of it), so that phone viewers without Chinese
fonts display the transcript and the certificate: WenQuanYi Micro Hei (TrueType outlines, which
reportlab can subset) from the pinned `paperang-p2-fonts-cjk` wheel, else Debian's fonts-wqy-*;
without any, reportlab's built-in STSong-Light (not embedded)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

FONT_NAME = "CPD-CJK"
FONT_CANDIDATES = (
    ("paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"),
    (None, "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    (None, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)


def font_path() -> Path | None:
    for package, name in FONT_CANDIDATES:
        if package:
            try:
                path = Path(str(importlib.resources.files(package) / name))
            except ModuleNotFoundError:
                continue
        else:
            path = Path(name)
        if path.is_file():
            return path
    return None


def register_font() -> str:
    """Register the embeddable CJK font once and return its name (or STSong-Light's without one)."""
    from reportlab.pdfbase import pdfmetrics

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    path = font_path()
    if path is None:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    return FONT_NAME
