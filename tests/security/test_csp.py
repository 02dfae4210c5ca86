"""Content-Security-Policy: sent on every page, scripts only from our own origin, no inline scripts left."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings


def _directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/login/", "/api/docs/"])
def test_anonymous_pages_carry_the_policy(db, client, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = _directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_logged_in_pages_carry_the_policy(world):
    response = world.client("city_admin").get("/verification/statistics/")
    assert response.status_code == 200
    assert _directives(response)["script-src"] == ["'self'"]


def test_api_docs_load_their_script_from_a_file(db, client):
    html = client.get("/api/docs/").content.decode()
    inline = [s for s in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S) if "src=" not in s[0] and s[1].strip()]
    assert inline == []


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_HANDLER, INLINE_SCRIPT):
            for match in pattern.finditer(text):
                offenders.append(f"{path.name}: {match.group(0)}")
    assert offenders == []
