"""No dead ends: every link of a role's navigation and home page opens for that role (no 403, no 404)."""

from __future__ import annotations

import re

import pytest

PERSONAS = ["teacher_a1", "school_a1_admin", "principal_a1", "district_a_admin", "city_direct_admin", "city_admin", "provider"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_of_the_navigation_and_home_page_opens(world, persona):
    client = world.client(persona)
    home = client.get("/").content.decode()
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', home, re.S).group(1)
    main = re.search(r"<main[^>]*>(.*?)</main>", home, re.S).group(1)
    found = set(re.findall(r'href="(/[^"#?]*)', nav + main)) - {"/admin/"}
    links = sorted(link for link in found if not link.startswith("/static/"))
    assert links
    refused = {link: client.get(link).status_code for link in links}
    assert {link: code for link, code in refused.items() if code not in (200, 302)} == {}
