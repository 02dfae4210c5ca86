"""Points for hours end to end: a teacher with points requests an exchange, the school confirms it paid,
and the hours appear in the teacher's bank with the source 积分兑换."""

from __future__ import annotations

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from hours.models import LedgerEntry, Source
from points import services
from points.models import EarningRule, ExchangeRequest, ExchangeWindow, RequestState


def points_to_exchange(teacher, *, courses: int = 7) -> None:
    """This year's exchange window, open all year, and `courses` × 50 points earned today by `teacher`.

    Open all year, so a journey runs on any day without freezing the clock (the live server is
    another thread of this process). Also used by tests/browser/test_role_journeys.py.
    """
    today = timezone.localdate()
    ExchangeWindow.objects.create(
        year=today.year, opens_on=datetime.date(today.year, 1, 1), closes_on=datetime.date(today.year, 12, 31)
    )
    EarningRule.objects.create(action_code="course", name="完成研修课程", points=50)
    for i in range(courses):
        event = services.points_earn(
            event_id=f"journey-{i}", teacher_key=teacher.id_number, action_code="course", occurred_on=today
        )
        assert event.status == "accepted"


def test_a_teacher_exchanges_points_the_school_confirms_and_the_hours_arrive(live_world, open_as):
    today = timezone.localdate()
    teacher = live_world.teachers["teacher_a1"]
    points_to_exchange(teacher)

    # 1. The teacher sees 350 points, 3 hours exchangeable now, and asks for 3 elective hours.
    page = open_as("teacher_a1")
    page.get_by_role("navigation").get_by_role("link", name="积分", exact=True).click()
    expect(page).to_have_url(re.compile(r"/points/$"))
    expect(page.get_by_test_id("balance")).to_have_text("350")
    expect(page.get_by_test_id("can-elective")).to_have_text("3")
    form = page.get_by_test_id("exchange-form")
    form.get_by_label("兑换为").select_option(label="个人选修科目")
    form.get_by_label("学时（整数）").fill("4")
    page.get_by_test_id("request-exchange").click()
    # Four hours would need 400 points: refused, nothing held.
    expect(page.get_by_test_id("error-hours")).to_have_text("积分不足：需要 400 分，可用 350 分。")
    page.get_by_test_id("exchange-form").get_by_label("学时（整数）").fill("3")
    page.get_by_test_id("request-exchange").click()
    expect(page.get_by_role("status")).to_have_text("兑换申请已提交，积分已冻结，等待学校确认。")
    expect(page.get_by_test_id("balance")).to_have_text("50")
    expect(page.get_by_test_id("held")).to_have_text("300")
    req = ExchangeRequest.objects.get(teacher=teacher)
    expect(page.get_by_test_id(f"request-state-{req.pk}")).to_have_text("待学校确认")

    # 2. The school admin picks it in the queue and confirms the payment.
    school = open_as("school_a1_admin")
    school.get_by_role("navigation").get_by_role("link", name="积分兑换").click()
    expect(school).to_have_url(re.compile(r"/points/requests/$"))
    row = school.get_by_test_id("school-requests").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(teacher.name)
    school.get_by_test_id(f"pick-{req.pk}").check()
    school.get_by_test_id("confirm-paid").click()
    expect(school.get_by_role("status")).to_have_text("已确认 1 份兑换，学时已计入。")
    expect(school.get_by_test_id(f"pick-{req.pk}")).to_have_count(0)

    # 3. The teacher's hours bank shows the 3 elective hours from the points exchange.
    page.get_by_role("navigation").get_by_role("link", name="我的学时").click()
    expect(page).to_have_url(re.compile(r"/hours/$"))
    ledger = page.get_by_test_id("ledger").locator("tbody tr")
    expect(ledger).to_have_count(1)
    expect(ledger.first.get_by_role("cell").nth(3)).to_have_text("个人选修科目")
    expect(ledger.first.get_by_role("cell").nth(4)).to_have_text("积分兑换")
    expect(ledger.first.get_by_role("cell").nth(5)).to_have_text("3.0")
    entry = LedgerEntry.objects.get(teacher=teacher)
    assert (entry.source, entry.year, entry.category) == (Source.POINTS_EXCHANGE, today.year, "elective")

    # 4. Back on the points page: nothing held any more, the request is paid.
    page.get_by_role("navigation").get_by_role("link", name="积分", exact=True).click()
    expect(page.get_by_test_id("held")).to_have_text("0")
    expect(page.get_by_test_id(f"request-state-{req.pk}")).to_have_text("已兑换")
    assert ExchangeRequest.objects.get(pk=req.pk).state == RequestState.PAID
