"""In the cycle regime 我的学时 speaks of the teacher's cycle (the same figures as 我的继续教育周期, from
hours.ledger.cycle_figures), shows no annual minimum, and the new-teacher requirement only while it applies."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest

from cycles import rules as cycles
from hours.models import Category, LedgerEntry, Source

from .test_cycles import cycle_page, cycle_regime, frozen, give, hours_of, veteran  # noqa: F401 (fixtures)

pytestmark = pytest.mark.cycle


def hours_page(world, persona="teacher_a1") -> str:
    response = world.client(persona).get("/hours/")
    assert response.status_code == 200
    return response.content.decode()


def shown(html: str, key: str) -> Decimal:
    return Decimal(re.search(rf'data-testid="cycle-{key}">([\d.]+)<', html).group(1))


def test_my_hours_shows_the_cycle_not_an_annual_minimum(world, frozen, cycle_regime):  # noqa: F811
    teacher = veteran(world)
    hours_of(teacher, total=96, school_based=24)
    for html in (hours_page(world), cycle_page(world)):
        assert (shown(html, "total"), shown(html, "school-based")) == (Decimal(96), Decimal(24))
        assert 'data-testid="behind-pace"' in html
    html = hours_page(world)
    assert 'data-testid="total-1"' not in html and "最低要求" not in html
    assert "360" in html


def test_a_completed_cycle_shows_no_new_teacher_requirement(world, frozen, cycle_regime):  # noqa: F811
    teacher = world.teachers["teacher_a1"]
    teacher.first_employment_date = datetime.date(2025, 9, 1)  # a new teacher of this cycle
    teacher.save()
    give(teacher, 24, day=datetime.date(2025, 10, 20), new_teacher=True)
    assert cycles.progress(teacher).is_new_teacher is True
    assert 'data-testid="new-teacher"' in hours_page(world)

    hours_of(teacher, total=336, school_based=80)  # 360 with the 24 above: the cycle is complete
    p = cycles.progress(teacher)
    assert (p.complete, p.is_new_teacher) == (True, False)
    for html in (hours_page(world), cycle_page(world)):
        assert 'data-testid="new-teacher"' not in html and "新教师培训" not in html
        assert shown(html, "total") == Decimal(360)


def test_a_public_topic_twice_in_a_year_counts_once_in_the_cycle(world, frozen):  # noqa: F811
    teacher = veteran(world)
    give(teacher, 30)
    for hours in (20, 12):  # the same public topic recorded twice (e.g. a declaration and the provincial import)
        LedgerEntry.objects.create(
            teacher=teacher,
            year=2026,
            category=Category.PUBLIC,
            hours=Decimal(hours),
            source=Source.REGISTRATION,
            title="师德师风专题",
            end_date=datetime.date(2026, 5, 4),
        )
    assert cycles.progress(teacher).total == Decimal(30 + 20)
