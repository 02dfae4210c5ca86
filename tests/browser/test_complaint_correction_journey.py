"""A complaint that leads to a correction, in Chromium at a desk (Chinese) and on a phone (English): the
district upholds a teacher's complaint, follows 更正学时, adds the missed hours with a reason and sees the
teacher's corrected total; the teacher then sees it on 我的学时 (tests/browser/checks.py on every page)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.verification.conftest import give
from verification import services
from verification.models import ResultComplaint, YearPolicy

from .checks import DESK, PHONE, PageChecks
from .conftest import log_in

SIZES = [pytest.param(DESK, False, id="desk-zh"), pytest.param(PHONE, True, id="phone-en")]
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
# 2025's review deadlines are over: the final run, the notice and its complaints.
SPRING = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
# What people type, in the language of the variant (the English check allows only data it knows of).
TYPED = {
    False: {
        "message": "6月的区级班主任培训漏登了6学时",
        "resolution": "核对签到表属实",
        "title": "区级班主任培训",
        "reason": "签到表齐全，漏登",
    },
    True: {
        "message": "The district class teacher training in June is missing: 6 hours",
        "resolution": "Checked the sign-in sheet: upheld",
        "title": "District class teacher training",
        "reason": "Sign-in sheet complete, registration missed",
    },
}


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def _open(persona: str, viewport: dict, english: bool) -> PageChecks:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN")
        contexts.append(context)
        if english:
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
        page = context.new_page()
        log_in(page, persona, PASSWORD)
        # log_in returns once the URL left the second-factor form; the workspace may still be loading.
        page.wait_for_load_state()
        page.locator("main").wait_for()
        checks = PageChecks(page, english=english)
        checks.check()
        return checks

    yield _open
    for context in contexts:
        context.close()


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_district_upholds_a_complaint_and_corrects_the_teachers_hours(live_world, open_page, viewport, english):
    world = live_world
    typed = TYPED[english]
    YearPolicy.objects.get_or_create(
        year=2025,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    # 2025: public 30, professional 50, elective 12 — 6 elective hours short, 92 in all.
    give(world.teachers["teacher_a1"], 2025, public=30, professional=50, elective=12)
    with time_machine.travel(SPRING, tick=True):
        services.run_start(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2025, inline=True)
        services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=2025)
        complaint = services.complaint_file(
            role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], year=2025, field="elective", message=typed["message"]
        )

        d = open_page("district_a_admin", viewport, english)
        page = d.page
        d.goto("/verification/complaints/")
        page.get_by_test_id(f"resolution-{complaint.pk}").fill(typed["resolution"])
        page.get_by_test_id(f"uphold-{complaint.pk}").click()
        expect(page.locator(".messages")).to_be_visible()
        d.check()
        # Upholding leaves the correction right there, on the complaint's row.
        page.get_by_test_id(f"correct-{complaint.pk}").click()
        expect(page).to_have_url(re.compile(rf"/verification/complaints/{complaint.pk}/correct/$"))
        expect(page.get_by_test_id("total-4")).to_have_text("92.0")
        d.check()
        assert d.axe() == [], d.axe()

        form = page.get_by_test_id("add-hours")
        form.locator("select[name=add-category]").select_option("elective")
        form.locator("input[name=add-hours]").fill("6")
        form.locator("input[name=add-title]").fill(typed["title"])
        form.locator("input[name=add-reason]").fill(typed["reason"])
        page.get_by_test_id("add-submit").click()
        expect(page.locator(".messages")).to_be_visible()
        expect(page.get_by_test_id("total-3")).to_have_text("18.0")
        expect(page.get_by_test_id("total-4")).to_have_text("98.0")
        expect(page.get_by_test_id(f"corrections-{complaint.pk}")).to_contain_text("6.0")
        expect(page.get_by_test_id(f"corrections-{complaint.pk}")).to_contain_text(typed["title"])
        d.check()

        d.goto("/verification/complaints/")
        expect(page.get_by_test_id(f"corrections-{complaint.pk}")).to_contain_text(typed["reason"])
        expect(page.get_by_test_id(f"needs-rerun-{complaint.pk}")).to_be_visible()
        d.goto("/verification/results/?year=2025")
        expect(page.get_by_test_id("needs-rerun")).to_be_visible()
        assert ResultComplaint.objects.get().corrections.count() == 1

        t = open_page("teacher_a1", viewport, english)
        t.goto("/hours/?year=2025")
        expect(t.page.get_by_test_id("total-3")).to_have_text("18.0")
        expect(t.page.get_by_test_id("total-4")).to_have_text("98.0")
        expect(t.page.get_by_test_id("ledger")).to_contain_text(typed["reason"])
        t.check()
        t.goto("/verification/my/")
        expect(t.page.get_by_test_id(f"corrections-{complaint.pk}")).to_contain_text(typed["title"])
        t.page.get_by_test_id(f"corrected-hours-{complaint.pk}").click()
        expect(t.page.get_by_test_id("total-4")).to_have_text("98.0")
        t.check()
