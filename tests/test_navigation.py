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


def _menu(client) -> str:
    return re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', client.get("/").content.decode(), re.S).group(1)


def test_the_menu_is_the_readers_language_and_the_roles_though_rendered_once_per_process(world, settings):
    """The menu is rendered once per role kind, regime and language (cpd_ui.main_menu): never another's."""
    city, teacher = world.client("city_admin"), world.client("teacher_a1")
    chinese = _menu(city)
    city.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = _menu(city)
    assert "审计日志" in chinese and "审计日志" not in english and "Audit log" in english
    assert _menu(world.client("city_admin")) == chinese
    assert "审计日志" not in _menu(teacher) and "我的学时" in _menu(teacher)
