"""English UI: the catalogue is complete and the language cookie (not the browser) picks the language.

Source strings are Chinese (zh-hans is the default UI, so there is no zh_Hans catalogue); English lives in
locale/en/LC_MESSAGES/django.po and the compiled django.mo (commit both; a fresh machine may lack gettext).
After adding or changing translatable strings:

    .venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=var --ignore=tests
    # fill in every empty msgstr (msgstr[0]/msgstr[1] for plurals), check and drop any "#, fuzzy" flag
    msgfmt --check-format -o /dev/null locale/en/LC_MESSAGES/django.po
    .venv/bin/python manage.py compilemessages -l en --ignore=.venv
    .venv/bin/python -m pytest -q tests/test_i18n.py
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)  # "msgid", "msgid_plural", "msgstr", "msgstr[0]", ...

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def translations(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: active (non-obsolete) entries with their flags and unescaped strings."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current, key = None, None
            continue
        if line.startswith("#~"):  # obsolete entry kept by msgmerge; not used at runtime
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#,"):
            current.flags.update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key is not None, f"{path}:{number}: continuation line without a keyword"
            current.fields[key] += ast.literal_eval(line)
        else:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
            assert match, f"{path}:{number}: cannot parse {line!r}"
            key = match.group(1)
            current.fields[key] = ast.literal_eval(match.group(2))
    return [e for e in entries if "msgid" in e.fields]


@pytest.fixture(autouse=True)
def _reset_language():
    """Requests activate the cookie's language in this thread; don't leak English into other tests."""
    yield
    translation.deactivate()


# --- (a) the catalogue ------------------------------------------------------------------------


def test_en_catalogue_is_complete():
    entries = [e for e in parse_po(PO_PATH) if e.msgid]  # skip the header
    assert len(entries) > 100
    problems = []
    for e in entries:
        where = f"django.po:{e.line} {e.msgid!r}"
        if "fuzzy" in e.flags:
            problems.append(f"{where}: fuzzy")
        if not e.translations or any(not v for v in e.translations.values()):
            problems.append(f"{where}: untranslated")
        if "msgid_plural" in e.fields and set(e.translations) != {"msgstr[0]", "msgstr[1]"}:
            problems.append(f"{where}: needs msgstr[0] and msgstr[1]")
        wanted = sorted(set(PLACEHOLDER.findall(e.msgid + e.fields.get("msgid_plural", ""))))
        for k, v in e.translations.items():
            if sorted(set(PLACEHOLDER.findall(v))) != wanted:
                problems.append(f"{where}: {k} placeholders {PLACEHOLDER.findall(v)} != {wanted}")
    assert not problems, "\n".join(problems)


def test_en_header_is_not_fuzzy():
    header = next(e for e in parse_po(PO_PATH) if not e.msgid)
    assert "fuzzy" not in header.flags
    assert "Language: en\n" in header.fields["msgstr"]


def test_compiled_catalogue_matches_po():
    """django.mo is committed; it must be recompiled whenever django.po changes."""
    with MO_PATH.open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    stale = []
    for e in parse_po(PO_PATH):
        if not e.msgid or "msgctxt" in e.fields:
            continue
        if "msgid_plural" in e.fields:
            got = (mo.ngettext(e.msgid, e.fields["msgid_plural"], 1), mo.ngettext(e.msgid, e.fields["msgid_plural"], 2))
            want = (e.fields["msgstr[0]"], e.fields["msgstr[1]"])
        else:
            got, want = mo.gettext(e.msgid), e.fields["msgstr"]
        if got != want:
            stale.append(e.msgid)
    assert not stale, f"django.mo is out of date (run compilemessages): {stale[:5]}"


# --- (b) choosing English ---------------------------------------------------------------------


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang> attribute"
    return match.group(1)


@pytest.mark.django_db
def test_set_language_switches_login_page_to_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    html = client.get("/login/").content.decode()
    assert _html_lang(html) == "en"
    assert "Log in" in html
    assert "Teacher CPD Hours Platform" in html
    assert "登录" not in html


def test_workspace_in_english_for_school_admin(world):
    client = world.client("school_a1_admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/").content.decode()
    assert _html_lang(html) == "en"
    for text in ("Workspace", "Teacher roster", "Roster import", "School review", "Active teachers", "Log out"):
        assert text in html, text
    assert "教师名册" not in html
    assert "工作台" not in html


def test_roster_plural_in_english(world):
    client = world.client("school_a1_admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    html = client.get("/roster/").content.decode()
    assert re.search(r"\b1 teacher\b|\b\d+ teachers\b", html), "roster count not translated"


def test_switching_back_to_chinese(world):
    client = world.client("school_a1_admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    html = client.get("/").content.decode()
    assert _html_lang(html) == "zh-hans"
    assert "教师名册" in html


# --- (c) the browser's Accept-Language does not matter ------------------------------------------


@pytest.mark.django_db
def test_accept_language_alone_keeps_chinese(client):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert _html_lang(html) == "zh-hans"
    assert "登录" in html
    assert "Log in" not in html


def test_accept_language_alone_keeps_chinese_when_logged_in(world):
    client = world.client("school_a1_admin")
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert _html_lang(html) == "zh-hans"
    assert "教师名册" in html
    assert "Teacher roster" not in html
