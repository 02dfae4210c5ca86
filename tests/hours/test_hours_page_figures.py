"""我的学时 shows what verification counts (hours/ledger.py), never a sum of its own; in the cycle regime,
the teacher's cycle and no annual minimum."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import time_machine

from hours.models import Category, Declaration, DeclarationState, Source
from tests.verification.conftest import entry, give, result, verify

D = Decimal
CST = datetime.timezone(datetime.timedelta(hours=8))
IN_2026 = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=CST)


def figures(html: str) -> list[Decimal]:
    """public, professional, elective, total as the summary table shows them."""
    return [D(re.search(rf'data-testid="total-{n}">([\d.]+)<', html).group(1)) for n in range(1, 5)]


def pending(html: str) -> list[str]:
    return [re.search(rf'data-testid="pending-{n}">([^<]*)<', html).group(1) for n in range(1, 5)]


def test_a_public_topic_recorded_twice_shows_once_and_the_page_agrees_with_the_verdict(world):
    teacher = world.teachers["teacher_a1"]
    twice = entry(teacher, 2025, Category.PUBLIC, 20, title="师德师风专题")
    again = entry(teacher, 2025, Category.PUBLIC, 20, title="师德师风专题", source=Source.PROVINCIAL_IMPORT)
    give(teacher, 2025, professional=42, elective=18)
    verify(world, 2025)
    r = result(teacher, 2025)
    html = world.client("teacher_a1").get("/hours/?year=2025").content.decode()
    assert figures(html) == [r.public, r.professional, r.elective, r.total] == [D(20), D(42), D(18), D(80)]
    assert r.status == "failed"  # 10 public hours short: the page must not say 40
    # the second record is listed, with why it adds nothing
    assert f'data-testid="not-counted-{again.pk}"' in html and f'data-testid="not-counted-{twice.pk}"' not in html
    assert "同一公需科目专题只计一次" in html


def test_professional_includes_the_carry_in_as_the_verdict_does(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2025, public=30, professional=50, elective=18)  # carries 8 into 2026
    give(teacher, 2026, public=30, professional=34, elective=18)
    verify(world, 2025)
    verify(world, 2026)
    r = result(teacher, 2026)
    html = world.client("teacher_a1").get("/hours/?year=2026").content.decode()
    assert figures(html) == [r.public, r.professional, r.elective, r.total] == [D(30), D(42), D(18), D(90)]
    assert 'data-testid="carry-in"' in html and "8.0" in html


def test_the_open_year_is_counted_so_far_with_pending_declarations_beside_not_in(world):
    teacher = world.teachers["teacher_a1"]
    give(teacher, 2026, public=12)
    for state, category, hours in (
        (DeclarationState.SUBMITTED, Category.PUBLIC, 6),
        (DeclarationState.SCHOOL_APPROVED, Category.ELECTIVE, 4),
        (DeclarationState.DRAFT, Category.ELECTIVE, 9),
    ):
        Declaration.objects.create(
            teacher=teacher,
            year=2026,
            category=category,
            activity_type="remote",
            title=f"{state}培训",
            organiser="广州市教育研究院",
            start_date=datetime.date(2026, 3, 2),
            end_date=datetime.date(2026, 3, 3),
            hours=D(hours),
            state=state,
        )
    with time_machine.travel(IN_2026, tick=False):
        html = world.client("teacher_a1").get("/hours/").content.decode()
    assert 'data-testid="counted-so-far"' in html
    assert figures(html) == [D(12), D(0), D(0), D(12)]
    assert pending(html) == ["6.0", "—", "4.0", "10.0"]  # the draft is nobody's business yet


def test_the_figures_api_gives_the_verdicts_figures_in_scope_only(world):
    teacher = world.teachers["teacher_a1"]
    entry(teacher, 2025, Category.PUBLIC, 20, title="师德师风专题")
    entry(teacher, 2025, Category.PUBLIC, 20, title="师德师风专题", source=Source.PROVINCIAL_IMPORT)
    give(teacher, 2025, professional=44, elective=18)
    verify(world, 2025)
    r = result(teacher, 2025)
    own = world.api("teacher_a1").get("/api/v1/ledger/figures/?year=2025")
    assert own.status_code == 200, own.content
    body = own.json()
    assert [D(body[k]) for k in ("public", "professional", "elective", "total")] == [
        r.public,
        r.professional,
        r.elective,
        r.total,
    ]
    school = world.api("school_a1_admin").get(f"/api/v1/ledger/figures/?year=2025&teacher={teacher.pk}")
    assert school.status_code == 200 and D(school.json()["total"]) == r.total == D(82)
    assert world.api("school_b1_admin").get(f"/api/v1/ledger/figures/?year=2025&teacher={teacher.pk}").status_code == 404
    assert world.api("school_a1_admin").get("/api/v1/ledger/figures/?year=2025").status_code == 400
    bad = world.api("teacher_a1").get("/api/v1/ledger/figures/?year=abc")
    assert bad.status_code == 400 and "year" in bad.json()
    # A teacher that is not a whole number is the request's fault, named like the year (was a 404).
    for value in ("abc", "1.5", "-3", str(2**63)):
        bad_teacher = world.api("school_a1_admin").get(f"/api/v1/ledger/figures/?year=2025&teacher={value}")
        assert bad_teacher.status_code == 400, (value, bad_teacher.content)
        assert list(bad_teacher.json()) == ["teacher"]
