"""cpd.rows: the list rows' escaping is Django's (format_html), and a row's link is reverse()'s."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from cpd.rows import html_format, url_format


class Widget:
    def __html__(self):
        return "<input>"


@pytest.mark.parametrize(
    "value",
    ['<b>"王" & 张\'s</b>', mark_safe("<b>safe</b>"), 7, Decimal("-3.5"), None, 2.5, gettext_lazy("学校"), Widget(), ""],
)
def test_a_value_is_escaped_as_format_html_escapes_it(value):
    written = html_format('<td title="{v}">{v}</td>', v=value)
    assert written == format_html('<td title="{v}">{v}</td>', v=value)
    assert isinstance(written, SafeString)


@pytest.mark.parametrize("pk", [1, 42, 10**12])
def test_a_rows_link_is_reverses(pk):
    assert url_format("teacher_detail").format(pk) == reverse("teacher_detail", args=[pk])


def test_a_view_without_one_integer_argument_is_refused():
    with pytest.raises((NoReverseMatch, ValueError)):
        url_format("workspace")
