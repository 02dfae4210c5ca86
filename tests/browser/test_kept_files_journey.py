"""A chosen file survives a form that has to be fixed first (issue 12): the teacher picks a certificate,
submits with a wrong field, sees the file kept under its field, fixes the field and submits without
choosing the file again; the declaration is submitted with that file as its evidence."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from demo.hours import demo_png
from hours.models import Declaration, DeclarationState, StagedUpload, Year

from .test_role_journeys import SIZES, _assert_accessible, _dates, _policy, as_role, private_media  # noqa: F401


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_a_kept_certificate_is_submitted_without_choosing_it_again(
    live_world,
    as_role,  # noqa: F811
    private_media,  # noqa: F811
    viewport,
    english,
    tmp_path,
):
    this_year = timezone.localdate().year
    _policy(this_year)
    Year.objects.get_or_create(year=this_year, defaults=Year.defaults_for(this_year))
    t = as_role("teacher_a1", viewport, english)
    page = t.page
    t.goto("/hours/declarations/new/")
    start, end = _dates()
    form = page.get_by_test_id("declaration-form")
    form.locator("select[name=category]").select_option("professional")
    form.locator("select[name=activity_type]").select_option("teaching_research")
    form.locator("input[name=title]").fill("区级教研活动")
    form.locator("input[name=organiser]").fill("越秀区教育发展中心")
    form.locator("input[name=start_date]").fill(start.isoformat())
    form.locator("input[name=end_date]").fill((start - datetime.timedelta(days=1)).isoformat())  # before the start
    form.locator("input[name=hours]").fill("6")
    certificate = tmp_path / "certificate.png"
    certificate.write_bytes(demo_png(11))
    page.get_by_test_id("file-certificate").set_input_files(str(certificate))
    page.get_by_test_id("submit-declaration").click()

    # The page comes back with the date's error beside it and the chosen file kept under its field.
    expect(page.get_by_test_id("error-summary")).to_be_visible()
    expect(page.get_by_test_id("error-end_date")).to_be_visible()
    kept = page.get_by_test_id("kept-certificate")
    expect(kept).to_contain_text("certificate.png")
    expect(kept).to_contain_text("Kept: certificate.png" if english else "已保留：certificate.png")
    expect(kept.get_by_label("Remove" if english else "移除")).not_to_be_checked()
    expect(page.get_by_test_id("file-certificate")).to_have_value("")  # the browser's input is empty again
    t.check()
    _assert_accessible(t)
    assert not Declaration.objects.exists() and StagedUpload.objects.count() == 1

    form.locator("input[name=end_date]").fill(end.isoformat())
    page.get_by_test_id("submit-declaration").click()  # no file chosen this time

    expect(page.get_by_test_id("declaration-state")).to_be_visible()
    expect(page.get_by_test_id("evidence-name")).to_have_text("certificate.png")
    t.check()
    decl = Declaration.objects.get()
    assert decl.state == DeclarationState.SUBMITTED
    (evidence,) = decl.evidence.all()
    assert (private_media / evidence.file.name).read_bytes() == certificate.read_bytes()
    assert not StagedUpload.objects.exists()
