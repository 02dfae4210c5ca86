"""The teacher's home: the compliance card's figures, the gap, and what can close it before the deadline."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from hours.models import Declaration, DeclarationState
from points import services as points_services
from points.models import ExchangeWindow
from training.models import OnlineCourse
from verification.models import VerificationResult

from ..hours.projects_kit import make_project
from ..points.conftest import earn
from ..verification.conftest import entry, give, verify
from .conftest import TZ, policy, result

D = Decimal


def _short_teacher(world):
    """teacher_a1 in 2026: public 30 (one topic twice), professional 20 + 10 carried in, elective 5; 6 pending."""
    t = world.teachers["teacher_a1"]
    entry(t, 2026, "public", 20, title="师德")
    entry(t, 2026, "public", 20, title="师德")  # the same topic twice counts once
    entry(t, 2026, "public", 10, title="法治")
    give(t, 2026, professional=20, elective=5)
    result(t, 2025, carry_out=10)
    Declaration.objects.create(
        teacher=t,
        year=2026,
        category="professional",
        activity_type="conference",
        title="学术会议",
        organiser="某会",
        start_date=datetime.date(2026, 5, 1),
        end_date=datetime.date(2026, 5, 1),
        hours=D("6"),
        state=DeclarationState.SUBMITTED,
    )
    return t


def _rows(response):
    return {r.category: r for r in response.context["card"].rows}


def test_short_teacher_sees_counted_minimum_missing_and_pending_beside(world, june, policy_2026):
    _short_teacher(world)
    response = world.client("teacher_a1").get("/")
    rows = _rows(response)
    assert (rows["public"].counted, rows["public"].missing) == (D("30"), D("0"))
    assert (rows["professional"].counted, rows["professional"].carry_in, rows["professional"].missing) == (
        D("30"),
        D("10"),
        D("12"),
    )
    assert (rows["elective"].counted, rows["elective"].missing) == (D("5"), D("13"))
    assert (rows["total"].counted, rows["total"].minimum, rows["total"].missing) == (D("65"), D("90"), D("25"))
    assert rows["professional"].pending == D("6") and rows["total"].counted == D("65")  # beside, not added in
    html = response.content.decode()
    assert 'data-testid="gap"' in html and "25" in html
    assert "含上年结转 10" in html
    card = response.context["card"]
    assert (
        card.deadline.kind == "declaration" and card.days_left == (datetime.date(2026, 12, 31) - datetime.date(2026, 6, 15)).days
    )
    assert f'data-testid="days-left">还剩 {card.days_left} 天' in html


def test_card_figures_equal_the_engines_result(world, june, policy_2026):
    t = _short_teacher(world)
    card_rows = _rows(world.client("teacher_a1").get("/"))
    verify(world, 2026)
    r = VerificationResult.objects.get(teacher=t, year=2026)
    assert (card_rows["public"].counted, card_rows["professional"].counted, card_rows["elective"].counted) == (
        r.public,
        r.professional,
        r.elective,
    )
    assert card_rows["total"].counted == r.total and card_rows["professional"].carry_in == r.carry_in
    assert (card_rows["professional"].missing, card_rows["elective"].missing, card_rows["total"].missing) == (
        r.short_professional,
        r.short_elective,
        r.short_total,
    )


def test_close_the_gap_lists_only_open_activities_of_missing_categories(world, june, policy_2026):
    _short_teacher(world)
    open_prof = make_project(
        world,
        title="开放的专业项目",
        category="professional",
        start_date=datetime.date(2026, 7, 1),
        end_date=datetime.date(2026, 7, 2),
        enrolment_start=datetime.date(2026, 6, 1),
        enrolment_end=datetime.date(2026, 6, 30),
    )
    no_enrolment_elective = make_project(
        world,
        title="无需报名的选修项目",
        category="elective",
        start_date=datetime.date(2026, 8, 1),
        end_date=datetime.date(2026, 8, 1),
        hours=D("6"),
    )
    make_project(  # public is already met
        world,
        title="公需项目",
        category="public",
        start_date=datetime.date(2026, 7, 1),
        end_date=datetime.date(2026, 7, 2),
        enrolment_start=datetime.date(2026, 6, 1),
        enrolment_end=datetime.date(2026, 6, 30),
    )
    make_project(  # enrolment closed
        world,
        title="报名已截止",
        category="professional",
        start_date=datetime.date(2026, 7, 1),
        end_date=datetime.date(2026, 7, 2),
        enrolment_start=datetime.date(2026, 5, 1),
        enrolment_end=datetime.date(2026, 6, 10),
    )
    make_project(  # already over
        world,
        title="已结束",
        category="professional",
        start_date=datetime.date(2026, 3, 2),
        end_date=datetime.date(2026, 3, 3),
    )
    make_project(
        world,
        title="未发布",
        category="professional",
        publish=False,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 9, 2),
    )
    OnlineCourse.objects.create(code="E1", title="选修网课", category="elective", hours=D("4"))
    OnlineCourse.objects.create(code="P1", title="公需网课", category="public", hours=D("4"))
    OnlineCourse.objects.create(code="E2", title="下架网课", category="elective", hours=D("4"), is_active=False)

    card = world.client("teacher_a1").get("/").context["card"]
    assert [p.title for p in card.projects] == [open_prof.title, no_enrolment_elective.title]
    assert [c.code for c in card.courses] == ["E1"]
    assert all(p.category in card.missing_categories and p.end_date <= card.deadline.date for p in card.projects)


def test_points_buy_hours_within_caps_counting_pending_requests(world, june, policy_2026):
    t = _short_teacher(world)
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
    earn(t, 1500)
    points_services.exchange_request(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], category="professional", hours=4
    )
    response = world.client("teacher_a1").get("/")
    points = response.context["card"].points
    # 1100 points left (11 hours); professional cap 10 − 4 pending = 6 (short 12), elective cap 10 (short 13);
    # both draw on the same 11 hours' worth of points.
    assert points["per_category"] == {"professional": 6, "elective": 10}
    assert points["useful"] == {"professional": 6, "elective": 10}
    assert 'data-testid="points-hours">11<' in response.content.decode()


def test_points_buy_no_more_than_the_balance_affords(world, june, policy_2026):
    t = _short_teacher(world)
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
    earn(t, 300)
    points = world.client("teacher_a1").get("/").context["card"].points
    assert points["useful"] == {"professional": 3, "elective": 3} and points["hours"] == 3


def test_points_after_the_window_buy_nothing(world, policy_2026):
    from .conftest import at

    t = _short_teacher(world)
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
    with at(2026, 6, 15):
        earn(t, 500)
    with at(2026, 12, 5):
        card = world.client("teacher_a1").get("/").context["card"]
    assert card.points["closed"] and card.points["useful"] == {"professional": 0, "elective": 0}


def test_a_teacher_who_is_done_sees_it(world, june, policy_2026):
    give(world.teachers["teacher_a2"], 2026, public=30, professional=42, elective=18)
    response = world.client("teacher_a2").get("/")
    assert response.context["card"].done
    html = response.content.decode()
    assert 'data-testid="done"' in html and 'data-testid="close-the-gap"' not in html


def test_history_shows_final_verdicts_only(world, june, policy_2026):
    t = world.teachers["teacher_a1"]
    result(t, 2025, carry_out=8, computed_at=datetime.datetime(2026, 3, 5, tzinfo=TZ))  # after the last review deadline
    result(t, 2024, computed_at=datetime.datetime(2025, 1, 10, tzinfo=TZ))  # a provisional run, never re-run
    policy(2023).__class__.objects.filter(year=2023).update(finalised_at=datetime.datetime(2024, 1, 5, tzinfo=TZ))
    result(t, 2023, computed_at=datetime.datetime(2024, 1, 4, tzinfo=TZ))  # early, but the city finalised the year
    card = world.client("teacher_a1").get("/").context["card"]
    assert [r.year for r in card.history] == [2025, 2023]


def test_other_teachers_figures_never_leak(world, june, policy_2026):
    give(world.teachers["teacher_a2"], 2026, professional=40)
    rows = _rows(world.client("teacher_a1").get("/"))
    assert rows["professional"].counted == D("0")


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)])
def test_card_renders_for_desk_and_phone_without_inline_script(world, june, policy_2026, size):
    _short_teacher(world)
    html = world.client("teacher_a1").get("/", HTTP_USER_AGENT=f"w{size[0]}").content.decode()
    assert "<script>" not in html.split("</head>")[1]
