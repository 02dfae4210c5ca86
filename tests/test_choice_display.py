"""A choice's label (`get_FOO_display`) in the reader's language, translating only that label.

Django's own method hashed every (value, label) pair of the field, which translated every label: the
roster's 25 rows spent a fifth of the page there (cpd/choices.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.models import Subject, Teacher
from hours.models import Declaration


@pytest.mark.parametrize(("language", "shown"), [("zh-hans", "数学"), ("en", "Mathematics")])
def test_a_teachers_subject_reads_in_the_readers_language(language, shown):
    teacher = Teacher(subject=Subject.MATH)
    with translation.override(language):
        assert teacher.get_subject_display() == shown


def test_a_value_that_is_not_a_choice_is_shown_as_stored_and_blank_stays_blank():
    assert Teacher(subject="astronomy").get_subject_display() == "astronomy"
    assert Teacher(subject="").get_subject_display() == ""


def test_showing_one_label_translates_one_label_not_the_whole_list(monkeypatch):
    real = translation._trans.gettext
    calls = []

    def counting(message):
        calls.append(message)
        return real(message)

    monkeypatch.setattr(translation._trans, "gettext", counting)
    assert len(Subject.choices) > 5
    with translation.override("en"):
        assert Teacher(subject=Subject.MATH).get_subject_display() == "Mathematics"
        assert Declaration(category="elective").get_category_display() == "Electives"
    assert len(calls) == 2, calls


def test_a_pages_labels_are_translated_once_and_read_as_get_foo_display(monkeypatch):
    from cpd.choices import page_display

    real = translation._trans.gettext
    calls = []
    monkeypatch.setattr(translation._trans, "gettext", lambda m: calls.append(m) or real(m))
    teachers = [Teacher(subject=s) for s in (Subject.MATH, Subject.MATH, "astronomy", "", Subject.MATH)]
    with translation.override("en"):
        subject = page_display(Teacher, "subject")
        assert [subject(t) for t in teachers] == ["Mathematics", "Mathematics", "astronomy", "", "Mathematics"]
        assert calls.count("数学") == 1
        assert [subject(t) for t in teachers] == [t.get_subject_display() for t in teachers]
