"""Home journeys in Chromium: a short teacher closes the gap from the home page; a school admin
clears its to-do list; a teacher downloads the transcript and opens its check page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import time_machine
from playwright.sync_api import expect

from home import transcript
from hours.models import Declaration, DeclarationState

from ..home.conftest import policy, result
from ..hours.projects_kit import make_project
from ..verification.conftest import give, verify

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def _at(y, m, d):
    return time_machine.travel(datetime.datetime(y, m, d, 9, 0, tzinfo=SHANGHAI), tick=True)


def test_short_teacher_follows_how_to_close_the_gap_to_enrol(live_world, page, login):
    with _at(2026, 6, 15):
        policy(2026)
        give(live_world.teachers["teacher_a1"], 2026, public=30, professional=20)
        project = make_project(
            live_world,
            title="暑期专业科目研修班",
            category="professional",
            start_date=datetime.date(2026, 7, 1),
            end_date=datetime.date(2026, 7, 2),
            enrolment_start=datetime.date(2026, 6, 1),
            enrolment_end=datetime.date(2026, 6, 30),
        )
        login("teacher_a1")
        page.goto("/")
        expect(page.get_by_test_id("gap")).to_contain_text("还差 40.0 学时")
        expect(page.get_by_test_id("row-professional").get_by_test_id("missing")).to_have_text("22.0")
        page.get_by_test_id("close-the-gap").get_by_role("link", name="暑期专业科目研修班").click()
        expect(page).to_have_url(re.compile(rf"/projects/{project.pk}/"))
        page.get_by_test_id("enrol").click()
        expect(page.locator(".messages")).to_contain_text("报名成功")
        page.goto("/")
        # enrolled: the project no longer offered
        expect(page.get_by_test_id("close-the-gap")).not_to_contain_text("暑期专业科目研修班")


def test_school_admin_clears_its_todo_list(live_world, page, login):
    with _at(2026, 6, 15):
        t = live_world.teachers["teacher_a1"]
        for i in range(2):
            Declaration.objects.create(
                teacher=t,
                year=2026,
                category="professional",
                activity_type="conference",
                title=f"会议{i}",
                organiser="某会",
                start_date=datetime.date(2026, 5, 1),
                end_date=datetime.date(2026, 5, 1),
                hours=Decimal("6"),
                state=DeclarationState.SUBMITTED,
            )
        from accounts.models import RosterConfirmation

        RosterConfirmation.objects.create(school=live_world.school_a1)
        login("school_a1_admin")
        page.goto("/")
        item = page.get_by_test_id("todo-review_school")
        expect(item.get_by_test_id("count")).to_have_text("2")
        item.get_by_role("link").click()
        expect(page).to_have_url(re.compile(r"/hours/review/"))
        for _ in range(2):
            page.locator("button[name=action][value=approve]").first.click()
            expect(page.locator(".messages")).to_contain_text("已通过")
        page.goto("/")
        expect(page.get_by_test_id("todo-clear")).to_be_visible()
        expect(page.get_by_test_id("todo-review_school").get_by_test_id("count")).to_have_text("0")


def test_teacher_downloads_the_transcript_and_opens_its_check_page(live_world, page, login):
    with _at(2026, 3, 5):
        policy(2025)
        give(live_world.teachers["teacher_a1"], 2025, public=30, professional=42, elective=18)
        verify(live_world, 2025)
    with _at(2026, 6, 15):
        login("teacher_a1")
        page.goto("/")
        page.get_by_test_id("transcripts-link").click()
        with page.expect_download() as info:
            page.get_by_test_id("transcript-2025").click()
        data = open(info.value.path(), "rb").read()
        assert data.startswith(b"%PDF")
        code = transcript.make_code(live_world.teachers["teacher_a1"].pk, "2025")
        page.goto(f"/transcripts/check/{code}/")
        expect(page.get_by_test_id("verdict")).to_have_text("合格")
        expect(page.get_by_test_id("total")).to_have_text("90.0")
        expect(page.get_by_test_id("check-result")).not_to_contain_text(live_world.teachers["teacher_a1"].id_number)
        tampered = code[:-1] + ("1" if code[-1] == "0" else "0")  # another last character (the code may end in 0)
        page.goto(f"/transcripts/check/{tampered}/")
        expect(page.get_by_test_id("check-refused")).to_be_visible()
    assert result  # the helper is shared with the home tests
