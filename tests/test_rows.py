"""cpd.rows: the list rows' escaping is Django's (format_html), and a row's link is reverse()'s."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.template import engines
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from cpd.rows import html_format, html_partial, shown, url_format


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


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_number_or_date_is_shown_as_the_template_shows_it(settings, language, thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    values = [0, 198030, -7, True, None, Decimal("95.20"), Decimal("1E+2"), 2.5, datetime.date(2026, 5, 31)]
    values.append(datetime.datetime(2026, 5, 31, 17, tzinfo=datetime.UTC))
    template = engines["django"].from_string("{{ v }}")
    with translation.override(language):
        for v in values:
            assert shown(v) == template.render({"v": v}), v


def test_a_pages_constants_filled_in_first_give_the_same_row():
    fmt = '<td title="{label}">{name}</td><td>{label}</td>{form}'
    constants = {"label": '"学校" & {x}', "form": mark_safe('<input value="{a}">')}
    row = html_partial(fmt, **constants)
    for name in ('<b>"王"</b>', "{label}", 7):
        assert html_format(row, name=name) == html_format(fmt, name=name, **constants)
