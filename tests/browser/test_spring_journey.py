"""The city's spring in Chromium: the city verifies a year, a school publishes its notice, a teacher
complains, the district resolves it, the principal and the district confirm, the city finalises."""

from __future__ import annotations

import datetime

import time_machine
from playwright.sync_api import expect

from hours.models import Year
from tests.verification.conftest import give
from verification.models import Confirmation, ResultComplaint, VerificationResult, YearPolicy

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


# A morning after the last review deadline of 2025: a final (not provisional) run is allowed.
SPRING = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def hours_of_2025(world) -> None:
    """The 2025 policy (90 / 30 / 42 / 18) and hours: teacher_a1 passes, teacher_a2 falls short.

    Also used by tests/browser/test_role_journeys.py.
    """
    # Transactional tests flush the tables, so the seeded policy may be gone: make sure 2025 has it.
    YearPolicy.objects.get_or_create(
        year=2025,
        defaults={
            "min_total": 90,
            "min_public": 30,
            "min_professional": 42,
            "min_elective": 18,
            "hours_per_day": 6,
            "carry_rule": "2022",
        },
    )
    give(world.teachers["teacher_a1"], 2025, public=30, professional=50, elective=18)
    give(world.teachers["teacher_a2"], 2025, public=30, professional=20, elective=18)


def test_city_runs_the_year_and_it_goes_through_notice_complaint_confirmations_to_finalised(live_world, open_as):
    world = live_world
    hours_of_2025(world)
    with time_machine.travel(SPRING, tick=True) as traveller:
        city = open_as("city_admin")
        city.goto("/verification/runs/")
        form = city.get_by_test_id("run-form")
        form.locator("input[name=year]").fill("2025")
        city.get_by_test_id("start-run").click()
        expect(city.get_by_test_id("run-status")).to_have_text("已完成")
        expect(city.get_by_test_id("count-passed")).to_have_text("1")  # a2, b1 and c1 fall short: only a1 passes

        school = open_as("school_a1_admin")
        school.goto("/verification/notice/?year=2025")
        school.get_by_test_id("publish-notice").click()
        expect(school.get_by_test_id("notice-window")).to_contain_text("公示中")
        expect(school.get_by_test_id("notice-table")).to_contain_text(world.teachers["teacher_a1"].name)

        teacher = open_as("teacher_a1")
        teacher.goto("/verification/my/")
        complaint = teacher.get_by_test_id("complain-2025")
        complaint.locator("select[name=field]").select_option("professional")
        complaint.locator("textarea[name=message]").fill("4月的区级培训应为56学时")
        complaint.get_by_role("button").click()
        expect(teacher.locator(".messages")).to_contain_text("异议已提交")

        district = open_as("district_a_admin")
        district.goto("/verification/complaints/")
        pk = ResultComplaint.objects.get().pk
        district.get_by_test_id(f"resolution-{pk}").fill("核对登记记录，区级培训为50学时，维持原结果")
        district.get_by_test_id(f"dismiss-{pk}").click()
        expect(district.get_by_test_id("result-complaints")).to_contain_text("不属实")

        # The notice runs 7 days; then the principal confirms the school.
        traveller.shift(datetime.timedelta(days=8))
        # The other schools' principals and districts have confirmed already (not part of this journey).
        for org in [world.school_a2, world.school_b1, world.school_c1, world.district_b, world.city_direct]:
            Confirmation.objects.create(organisation=org, year=2025)
        principal = open_as("principal_a1")
        # A week later the district and the city log in again (sessions end after 30 idle minutes).
        district = open_as("district_a_admin")
        city = open_as("city_admin")
        principal.goto("/verification/notice/?year=2025")
        principal.get_by_test_id("principal-confirm").click()
        expect(principal.get_by_test_id("school-confirmed")).to_be_visible()

        district.goto("/verification/confirmations/?year=2025")
        district.get_by_test_id("district-confirm").click()
        expect(district.get_by_test_id("district-confirmed")).to_be_visible()

        city.goto("/verification/confirmations/?year=2025")
        city.once("dialog", lambda dialog: dialog.accept())
        city.get_by_test_id("finalise").click()
        expect(city.get_by_test_id("finalised")).to_be_visible()

    assert YearPolicy.objects.get(year=2025).is_finalised
    assert Year.objects.get(year=2025).is_locked
    assert VerificationResult.objects.filter(year=2025).count() == 4
