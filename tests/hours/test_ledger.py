"""The one counting rule (hours/ledger.py): what the figures of every page are made of."""

from __future__ import annotations

import datetime
from decimal import Decimal

from hours import ledger
from hours.models import Category, Declaration, DeclarationState, Source
from tests.verification.conftest import entry, give, result, verify

D = Decimal


def test_a_public_topic_recorded_twice_counts_once_with_its_largest_entry(world):
    teacher = world.teachers["teacher_a1"]
    entry(teacher, 2026, Category.PUBLIC, 20, title="师德师风专题")
    entry(teacher, 2026, Category.PUBLIC, 12, title="师德师风专题", source=Source.PROVINCIAL_IMPORT)
    entry(teacher, 2026, Category.PUBLIC, 6, title="网络安全专题")
    f = ledger.teacher_year_figures(teacher_id=teacher.pk, year=2026)
    assert (f.public, f.total) == (D(26), D(26))
    assert ledger.public_topics(year=2026, teacher_ids=[teacher.pk]) == {
        teacher.pk: [("师德师风专题", D(20)), ("网络安全专题", D(6))]
    }


def test_a_revoked_entry_and_its_revocation_both_stay_out(world):
    teacher = world.teachers["teacher_a1"]
    wrong = entry(teacher, 2026, Category.PROFESSIONAL, 30, title="录错的培训")
    entry(teacher, 2026, Category.PROFESSIONAL, -30, title="录错的培训", source=Source.CORRECTION, revokes=wrong)
    entry(teacher, 2026, Category.PROFESSIONAL, 12.5, title="新课标研修")
    f = ledger.teacher_year_figures(teacher_id=teacher.pk, year=2026)
    assert (f.professional_own, f.professional, f.total) == (D("12.5"), D("12.5"), D("12.5"))


def test_carry_in_is_last_years_verified_carry_out_not_the_carry_over_entry(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2025, public=30, professional=50, elective=18)
    verify(world, 2025)
    assert result(teacher, 2025).carry_out == D(8)
    # The entry finalising writes into the next year is listed on the page but not counted a second time.
    entry(teacher, 2026, Category.PROFESSIONAL, 8, title="2025年度结转的专业科目学时", source=Source.CARRY_OVER)
    give(teacher, 2026, professional=30)
    f = ledger.teacher_year_figures(teacher_id=teacher.pk, year=2026)
    assert (f.carry_in, f.professional_own, f.professional, f.total) == (D(8), D(30), D(38), D(38))


def test_every_teacher_asked_for_is_present_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    teachers = list(world.teachers.values())
    give(teachers[0], 2026, public=10, professional=5)
    ids = [t.pk for t in teachers]
    with django_assert_max_num_queries(2):
        figures = ledger.year_figures(year=2026, teacher_ids=ids)
    assert set(figures) == set(ids)
    assert figures[teachers[0].pk].total == D(15)
    assert all(figures[t.pk].total == 0 for t in teachers[1:])
    # a queryset of teachers is a subquery, and gives the same figures
    from accounts.models import Teacher

    assert ledger.year_figures(year=2026, teacher_ids=Teacher.objects.filter(pk__in=ids)) == figures


def test_pending_declarations_are_beside_the_figures_never_in_them(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2026, public=10)
    for state, hours in ((DeclarationState.SUBMITTED, 6), (DeclarationState.SCHOOL_APPROVED, 4), (DeclarationState.DRAFT, 9)):
        Declaration.objects.create(
            teacher=teacher,
            year=2026,
            category=Category.PUBLIC,
            activity_type="remote",
            title=f"{state}的培训",
            organiser="广州市教育研究院",
            start_date=datetime.date(2026, 3, 2),
            end_date=datetime.date(2026, 3, 3),
            hours=D(hours),
            state=state,
        )
    assert Declaration.objects.filter(teacher=teacher).count() == 3
    assert ledger.pending_hours(year=2026, teacher_ids=[teacher.pk])[teacher.pk][Category.PUBLIC] == D(10)
    assert ledger.teacher_year_figures(teacher_id=teacher.pk, year=2026).public == D(10)
