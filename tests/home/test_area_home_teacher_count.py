"""An area's home says how many active teachers it has: exact where counting is cheap, the planner's
estimate (said as such) where the area is large."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.models import Teacher, TeacherStatus


def _shown(world, persona: str) -> str:
    html = world.client(persona).get("/").content.decode()
    return re.search(r'data-testid="total-teachers">([^<]*)<', html).group(1)


def test_district_home_counts_its_active_teachers_exactly_when_small(world):
    district = world.roles["district_a_admin"].organisation
    expected = Teacher.objects.filter(status=TeacherStatus.ACTIVE, school__path__startswith=district.path).count()
    assert expected > 0
    assert _shown(world, "district_a_admin") == str(expected)
    Teacher.objects.filter(school__path__startswith=district.path).order_by("pk").filter(
        pk=Teacher.objects.filter(school__path__startswith=district.path).order_by("pk").values("pk")[:1]
    ).update(status=TeacherStatus.RETIRED)
    assert _shown(world, "district_a_admin") == str(expected - 1)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://... (SQLite counts exactly)"
)
def test_a_large_area_shows_the_estimate_and_says_so(world, monkeypatch):
    from cpd import pagination

    monkeypatch.setattr(pagination, "EXACT_COUNT_BELOW", 0)
    assert re.fullmatch(r"约 \d+", _shown(world, "city_admin"))
