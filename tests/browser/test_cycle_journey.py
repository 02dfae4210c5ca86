"""The five-year cycle end to end: a teacher 12 hours short, the school registers its school-based
training, the teacher downloads the registration certificate, anyone checks its code."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cycles.models import CycleCertificate
from cycles.rules import add_years
from hours.models import Category, LedgerEntry, Source
from tests.browser.conftest import watch_csp
from training import projects as project_services

pytestmark = pytest.mark.cycle


@pytest.fixture
def cycle_regime(settings):
    """The live server runs in this process: it sees the overridden setting."""
    settings.CPD_REGIME = "cycle"


def _training_days(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Two finished days shortly before today, in this year (or today alone in the first days of January)."""
    start = today - datetime.timedelta(days=3)
    if start.year != today.year:
        return today, today
    return start, start + datetime.timedelta(days=1)


def test_a_teacher_12_hours_short_completes_the_cycle_and_downloads_a_certificate_anyone_can_check(
    live_world, cycle_regime, open_as, new_context, tmp_path
):
    today = timezone.localdate()
    teacher = live_world.teachers["teacher_a1"]
    teacher.name = "陈晓明"
    teacher.first_employment_date = add_years(today, -3)  # three years into the cycle
    teacher.save()
    # 348 hours in the cycle so far, 80 of them school-based.
    earlier = today - datetime.timedelta(days=60)
    for hours, school_based in ((Decimal("134"), False), (Decimal("134"), False), (Decimal("80"), True)):
        LedgerEntry.objects.create(
            teacher=teacher,
            year=earlier.year,
            category=Category.PROFESSIONAL,
            hours=hours,
            source=Source.REGISTRATION,
            title="校本研修：课例研讨" if school_based else "区级学科培训",
            start_date=earlier,
            end_date=earlier,
            school_based=school_based,
        )
    start, end = _training_days(today)
    project = project_services.project_save(
        role=live_world.roles["school_a1_admin"],
        actor=live_world.users["school_a1_admin"],
        data={
            "title": "校本研修：大单元教学设计",
            "category": Category.PROFESSIONAL,
            "hours": Decimal("12"),
            "start_date": start,
            "end_date": end,
            "level": "school",
            "kind": "school_based",
            "mode": "face_to_face",
        },
    )
    project_services.project_publish(role=live_world.roles["school_a1_admin"], project=project)

    # 1. The teacher sees that 12 hours are missing (the school-based 80 are there).
    page = open_as("teacher_a1")
    page.get_by_role("navigation").get_by_role("link", name="继续教育周期").click()
    expect(page).to_have_url(re.compile(r"/verification/cycle/$"))
    expect(page.get_by_test_id("cycle-total")).to_have_text(re.compile(r"^348(\.0)?$"))
    expect(page.get_by_test_id("cycle-school-based")).to_have_text(re.compile(r"^80(\.0)?$"))
    expect(page.get_by_test_id("cycle")).to_contain_text(re.compile(r"还差 12(\.0)? 学时，其中校本研修还差 0(\.0)? 学时"))
    expect(page.get_by_test_id("cycle-complete")).to_have_count(0)
    expect(page.get_by_test_id("download-certificate")).to_have_count(0)

    # 2. The school admin ticks the teacher on its school-based project and registers the 12 hours.
    school = open_as("school_a1_admin")
    school.goto(f"/hours/projects/{project.pk}/")
    expect(school.get_by_test_id("registered-count")).to_have_text("0")
    school.get_by_test_id(f"tick-{teacher.pk}").check()
    school.get_by_role("button", name="登记所选教师").click()
    expect(school.get_by_role("status")).to_contain_text("已登记 1 人")
    expect(school.get_by_test_id("registered-count")).to_have_text("1")
    expect(school.get_by_test_id("registrations")).to_contain_text("陈晓明")

    # 3. The teacher reloads: the cycle is complete, and the certificate downloads as a PDF.
    page.reload()
    expect(page.get_by_test_id("cycle-total")).to_have_text(re.compile(r"^360(\.0)?$"))
    expect(page.get_by_test_id("cycle-school-based")).to_have_text(re.compile(r"^92(\.0)?$"))
    expect(page.get_by_test_id("cycle-complete")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_test_id("download-certificate").click()
    download = download_info.value
    match = re.fullmatch(r"certificate-([0-9A-F]+)\.pdf", download.suggested_filename)
    assert match, download.suggested_filename
    code = match.group(1)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    cert = CycleCertificate.objects.get(teacher=teacher)
    assert cert.code == code and cert.issued_on == today

    # The page now shows the next cycle, starting today, and the certificate in the list.
    page.reload()
    expect(page.get_by_test_id("cycle")).to_contain_text(f"当前周期：{today:%Y-%m-%d} 至 {add_years(today, 5):%Y-%m-%d}")
    expect(page.get_by_test_id("cycle-total")).to_have_text(re.compile(r"^0(\.0)?$"))
    expect(page.get_by_test_id("certificates")).to_contain_text(code)

    # 4. Anyone (not logged in) checks the code on the public page and sees the masked name.
    public = watch_csp(new_context().new_page())
    public.goto("/certificates/verify/")
    public.get_by_label("验证码").fill(code)
    public.get_by_test_id("verify").click()
    expect(public.get_by_test_id("verify-name")).to_have_text("陈*明")
    expect(public.get_by_test_id("verify-valid")).to_be_visible()
    expect(public.get_by_test_id("verify-result")).to_contain_text(f"{add_years(today, 5):%Y-%m-%d}")
    expect(public.locator("body")).not_to_contain_text("陈晓明")
    expect(public.locator("body")).not_to_contain_text(teacher.id_number)
    expect(public.locator("body")).not_to_contain_text("育才小学")
