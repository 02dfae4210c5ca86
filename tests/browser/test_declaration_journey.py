"""The declaration loop end to end: a teacher declares, the school and the district review, twice returned."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.hours import demo_png
from hours.models import Declaration, DeclarationState, Evidence

SCHOOL_REASON = "学时与证书不一致"  # one of services.COMMON_RETURN_REASONS
DISTRICT_REASON = "证书编号与主办单位公示的不符，请核对后重新提交"


@pytest.fixture
def private_media(settings, tmp_path):
    """Uploaded evidence goes to a throwaway folder, not var/private.

    The live server runs in this process, so the override (made before the first
    request) is what its views see; Django's setting_changed handler resets the storage.
    """
    root = tmp_path / "private"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": str(root)},
        },
    }
    return root


def _training_dates() -> tuple[datetime.date, datetime.date]:
    """Two finished days shortly before today, in this year (or today alone in the first days of January)."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=4)
    if start.year != today.year:
        return today, today
    return start, start + datetime.timedelta(days=1)


def _status(page: Page):
    return page.get_by_role("status")


def _review(page: Page, pk: int, *, action: str, common_reason: str = "", reason: str = "") -> None:
    """On the review queue: check the evidence shows inline, then approve or return the declaration."""
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^申报[初复]审$")).click()
    expect(page).to_have_url(re.compile(r"/hours/review/$"))
    item = page.get_by_test_id(f"queue-item-{pk}")
    expect(item).to_be_visible()
    image = item.locator(".evidence img")
    expect(image).to_have_count(1)
    # The <img> really loaded the PNG through the evidence view (not a broken image).
    # (It is loading="lazy": bring it into view so that Chromium fetches it.)
    image.scroll_into_view_if_needed()
    expect(image).to_have_js_property("naturalWidth", 240)
    if common_reason:
        item.get_by_label("常用原因").select_option(label=common_reason)
    if reason:
        item.get_by_label("原因说明").fill(reason)
    item.get_by_test_id(f"{action}-{pk}").click()
    expect(_status(page)).to_have_text("已通过。" if action == "approve" else "已退回。")
    expect(page.get_by_test_id(f"queue-item-{pk}")).to_have_count(0)


def _open_from_notification(teacher: Page, message: str) -> None:
    """The header shows one unread notification; following it opens the declaration and clears the count."""
    teacher.goto("/hours/declarations/")
    expect(teacher.get_by_test_id("unread-count")).to_have_text("1")
    teacher.get_by_test_id("notifications").click()
    teacher.get_by_test_id("notification-list").get_by_role("link", name=message).click()
    expect(teacher).to_have_url(re.compile(r"/hours/declarations/\d+/$"))
    expect(teacher.get_by_test_id("unread-count")).to_have_count(0)


def test_declaration_returned_by_school_and_district_then_approved_lands_in_the_ledger(
    live_world, private_media, open_as, new_context
):
    start, end = _training_dates()
    title = "小学数学课堂教学研讨"
    certificate = private_media.parent / "certificate.png"
    certificate.write_bytes(demo_png(seed=7))

    # 1. The teacher declares, with a PNG certificate, and submits.
    teacher = open_as("teacher_a1")
    teacher.get_by_role("navigation").get_by_role("link", name="学时申报").click()
    expect(teacher.get_by_test_id("declarations")).to_contain_text("还没有申报。")
    teacher.get_by_test_id("new-declaration").click()
    expect(teacher).to_have_url(re.compile(r"/hours/declarations/new/$"))
    form = teacher.get_by_test_id("declaration-form")
    expect(form.get_by_label("年度")).to_have_value(str(timezone.localdate().year))
    form.get_by_label("类别").select_option(label="专业科目")
    form.get_by_label("活动类型").select_option(label="教研活动")
    form.get_by_label("培训名称").fill(title)
    form.get_by_label("主办单位").fill("越秀区教师发展中心")
    form.get_by_label("开始日期").fill(start.isoformat())
    form.get_by_label("结束日期").fill(end.isoformat())
    form.locator("input[name=hours]").fill("6")
    form.get_by_label("证书编号").fill("YX-2024-0815")
    expect(form.locator("input[name=certificate_in_chinese][value=True]")).to_be_checked()
    expect(form.locator("input[name=certificate_states_hours][value=True]")).to_be_checked()
    teacher.get_by_test_id("file-certificate").set_input_files(str(certificate))
    teacher.get_by_test_id("submit-declaration").click()

    expect(teacher.get_by_test_id("declaration-state")).to_have_text("待学校初审")
    expect(_status(teacher)).to_have_text("申报已提交，等待学校初审。")
    decl = Declaration.objects.get(teacher=live_world.teachers["teacher_a1"])
    assert decl.state == DeclarationState.SUBMITTED
    stored = Evidence.objects.get(declaration=decl)
    assert stored.content_type == "image/png"
    assert (private_media / stored.file.name).read_bytes() == certificate.read_bytes()
    pk = decl.pk
    expect(teacher.get_by_test_id("edit-declaration")).to_have_count(0)

    # 2. The school admin sees it with the certificate inline and returns it with a common reason.
    school = open_as("school_a1_admin")
    expect(school.get_by_role("navigation").get_by_role("link", name="申报初审")).to_be_visible()
    _review(school, pk, action="return", common_reason=SCHOOL_REASON)
    expect(school.get_by_test_id("queue-total")).to_have_text("0")

    # 3. The teacher is notified, reads the reason, lowers the hours and resubmits from the form.
    _open_from_notification(teacher, f"您的申报“{title}”被学校退回：{SCHOOL_REASON}")
    expect(teacher.get_by_test_id("declaration-state")).to_have_text("已退回")
    expect(teacher.get_by_test_id("last-reason")).to_have_text(f"审核意见：{SCHOOL_REASON}")
    teacher.get_by_test_id("edit-declaration").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("修改申报")
    form = teacher.get_by_test_id("declaration-form")
    expect(form.get_by_label("培训名称")).to_have_value(title)
    form.locator("input[name=hours]").fill("5")
    teacher.get_by_test_id("submit-declaration").click()
    expect(teacher.get_by_test_id("declaration-state")).to_have_text("待学校初审")
    expect(teacher.get_by_test_id("last-reason")).to_have_count(0)

    # 4. School approves; the district returns with its own words.
    _review(school, pk, action="approve")

    district = open_as("district_a_admin")
    _review(district, pk, action="return", reason=DISTRICT_REASON)

    # The teacher saves a corrected draft first, then resubmits from the detail page.
    _open_from_notification(teacher, f"您的申报“{title}”被区复审退回：{DISTRICT_REASON}")
    expect(teacher.get_by_test_id("last-reason")).to_have_text(f"审核意见：{DISTRICT_REASON}")
    teacher.get_by_test_id("edit-declaration").click()
    teacher.get_by_test_id("declaration-form").locator("input[name=hours]").fill("4.5")
    teacher.get_by_test_id("save-draft").click()
    expect(_status(teacher)).to_have_text("草稿已保存。")
    expect(teacher.get_by_test_id("declaration-state")).to_have_text("已退回")
    resubmit = teacher.get_by_test_id("submit-existing")
    expect(resubmit).to_have_text("重新提交")
    resubmit.click()
    expect(teacher.get_by_test_id("declaration-state")).to_have_text("待学校初审")

    _review(school, pk, action="approve")
    _review(district, pk, action="approve")

    # 5. The hours are in the teacher's bank, and the history tells the whole story.
    teacher.get_by_role("navigation").get_by_role("link", name="我的学时").click()
    expect(teacher).to_have_url(re.compile(r"/hours/$"))
    expect(teacher.get_by_test_id("unread-count")).to_have_text("1")
    ledger_rows = teacher.get_by_test_id("ledger").locator("tbody tr")
    expect(ledger_rows).to_have_count(1)
    date_text = start.isoformat() if start == end else f"{start:%Y-%m-%d} ~ {end:%Y-%m-%d}"
    expect(ledger_rows.first.get_by_role("cell")).to_have_text(
        [date_text, re.compile(rf"^{title} #{pk}$"), "越秀区教师发展中心", "专业科目", "个人申报", "4.5"]
    )

    ledger_rows.first.get_by_role("link", name=f"#{pk}").click()
    expect(teacher.get_by_test_id("declaration-state")).to_have_text("已通过")
    history = teacher.get_by_test_id("declaration-history").locator("tbody tr")
    expect(history).to_have_count(8)
    expect(history.locator("td:nth-child(4)")).to_have_text(
        [
            "草稿 → 待学校初审",
            "待学校初审 → 已退回",
            "已退回 → 待学校初审",
            "待学校初审 → 待区复审",
            "待区复审 → 已退回",
            "已退回 → 待学校初审",
            "待学校初审 → 待区复审",
            "待区复审 → 已通过",
        ]
    )
    expect(history.locator("td:nth-child(5)")).to_have_text(["", SCHOOL_REASON, "", "", DISTRICT_REASON, "", "", ""])
    expect(history.nth(1)).to_contain_text("（育才小学）")
    expect(history.nth(4)).to_contain_text("（越秀区）")
