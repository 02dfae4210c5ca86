"""403, 404 and 500 are pages of the platform: styled, in the user's language, with a way back."""

from __future__ import annotations

import re

from django.conf import settings
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

CJK = re.compile(r"[\u4e00-\u9fff]")


def _in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_a_forbidden_page_explains_and_leads_back_in_chinese_and_in_english(world):
    client = world.client("teacher_a1")
    zh = client.get("/verification/statistics/")
    assert zh.status_code == 403
    html = zh.content.decode()
    assert "无权访问" in html and 'data-testid="error-home"' in html and 'href="/"' in html
    assert "Forbidden" not in html

    en = _in_english(client).get("/verification/statistics/").content.decode()
    assert "Access denied" in en and "Back to my workspace" in en
    body = re.search(r"<main[^>]*>(.*)</main>", en, re.S).group(1)
    assert not CJK.search(body), CJK.findall(body)


def test_a_missing_page_is_styled_and_leads_back(world):
    response = world.client("teacher_a1").get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'data-testid="error-home"' in html and "/static/css/app.css" in html


def test_the_server_error_page_renders_without_a_request_context_in_both_languages():
    request = RequestFactory().get("/")
    with translation.override("en"):
        en = server_error(request).content.decode()
    zh = server_error(request).content.decode()
    assert "Server error" in en and 'data-testid="error-home"' in en
    assert "服务器出错" in zh
