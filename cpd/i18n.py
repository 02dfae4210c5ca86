"""Display-time translation of messages that were stored already rendered in Chinese.

Notifications, import row errors and similar texts are written once (by a worker, in the default
language) and read later by people who may browse in English. Rather than store a key beside every
text, the reader's catalogue is asked: a stored text equal to a msgid is translated as is, and one
rendered from a msgid with placeholders ("您的申报“%(title)s”已退回：%(reason)s") is matched against
that msgid, its values put into the translation. A text the catalogue does not know is shown as stored.
"""

from __future__ import annotations

import functools
import re

from django.utils import translation
from django.utils.translation import trans_real

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@functools.lru_cache(maxsize=8)
def _patterns(language: str) -> list[tuple[re.Pattern[str], str]]:
    """(regex, msgid) for every msgid with named placeholders, longest literal text first (most specific)."""
    catalog = trans_real.translation(language)._catalog  # type: ignore[attr-defined]  # gettext has no public catalogue listing
    found = []
    for msgid in catalog.keys():
        if not isinstance(msgid, str) or "%(" not in msgid:
            continue
        parts, pos, names = [], 0, []
        for m in PLACEHOLDER.finditer(msgid):
            parts.append(re.escape(msgid[pos : m.start()]))
            if m.group(1) in names:  # the same value twice: a backreference
                parts.append(f"(?P={m.group(1)})")
            else:
                parts.append(f"(?P<{m.group(1)}>.*?)")
                names.append(m.group(1))
            pos = m.end()
        parts.append(re.escape(msgid[pos:]))
        literal = len(PLACEHOLDER.sub("", msgid))
        if literal >= 2:  # "%(a)s：%(b)s" would match almost anything
            found.append((literal, re.compile("".join(parts) + r"\Z", re.S), msgid))
    found.sort(key=lambda t: -t[0])
    return [(rx, msgid) for _n, rx, msgid in found]


def translate_stored(text: str) -> str:
    """`text` in the active language if the catalogue knows it (see the module docstring), else as stored."""
    if not text:
        return text
    language = translation.get_language() or ""
    if language.startswith("zh"):
        return text  # stored in the source language already
    translated = translation.gettext(text)
    if translated != text:
        return translated
    for rx, msgid in _patterns(language):
        m = rx.match(text)
        if m:
            values = {k: translate_stored(v) for k, v in m.groupdict().items()}
            try:
                return translation.gettext(msgid) % values
            except (KeyError, ValueError, TypeError):
                return text
    return text


def source_language() -> translation.override:
    """Render a text that is stored for later readers (a notification, a row error) in the platform's
    default language, whatever the language of the request that wrote it; `translate_stored` puts it
    into each reader's language."""
    from django.conf import settings

    return translation.override(settings.LANGUAGE_CODE)
