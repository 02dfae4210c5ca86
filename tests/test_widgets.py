"""cpd.widgets.FastSelect writes Django's own <select> HTML, byte for byte, in both languages."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from accounts.forms import RosterFilterForm
from cpd.widgets import FastSelect
from hours.forms import QueueFilterForm

CHOICES = [
    ("", "全部"),
    ("a&b", 'say "hi" <b>'),
    (2025, 2025),
    ("组", [("x", "X 一"), ("y", "Y 二")]),
]


@pytest.mark.parametrize("value", [None, "", "a&b", 2025, "y", ["x", "a&b"]])
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "class": "c", "required": True, "disabled": False, "data-n": 3}])
def test_the_html_is_djangos(value, attrs):
    for multiple in (False, True):
        django_widget = forms.SelectMultiple(choices=CHOICES) if multiple else forms.Select(choices=CHOICES)
        fast = FastSelect(choices=CHOICES)
        fast.allow_multiple_selected = multiple
        assert fast.render("f", value, attrs) == django_widget.render("f", value, attrs)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "data", [{}, {"category": "elective", "year": "2025"}, {"status": "left", "stage": "primary", "subject": "math"}]
)
def test_the_filter_forms_show_what_djangos_select_showed(language, data):
    shown = 0
    with translation.override(language):
        for form in (QueueFilterForm(data or None, years=[2024, 2025]), RosterFilterForm(data or None)):
            for bound in form:
                if isinstance(bound.field.widget, FastSelect):
                    django_widget = forms.Select(choices=bound.field.widget.choices)
                    assert str(bound) == bound.as_widget(widget=django_widget)
                    shown += 1
    assert shown == 6  # the queue's year, category and type; the roster's status, stage and subject
