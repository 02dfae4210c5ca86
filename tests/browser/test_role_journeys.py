"""Every role's main jobs in Chromium, at a desk (1366×900, Chinese) and on a phone (390×844, English).

On every page a journey visits (tests/browser/checks.py): nothing wider than the window, no console
error, and in English no Chinese left but data. axe-core runs over each role's main page and forms and
must find no "serious" or "critical" violation.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from demo.hours import demo_png
from hours.models import Declaration, DeclarationState, Year
from tests.conftest import PASSWORD
from training import projects
from training.imports import REGISTRATION_HEADERS
from verification.models import YearPolicy

from .checks import DESK, PHONE, PageChecks
from .conftest import log_in

SIZES = [pytest.param(DESK, False, id="desk-zh"), pytest.param(PHONE, True, id="phone-en")]


@pytest.fixture
def private_media(settings, tmp_path):
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


@pytest.fixture
def as_role(browser, live_server):
    """as_role(persona, size, english) -> PageChecks of a fresh, logged-in page of that size and language."""
    contexts = []

    def _open(persona: str, viewport: dict, english: bool) -> PageChecks:
        context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="zh-CN")
        contexts.append(context)
        if english:
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
        page = context.new_page()
        log_in(page, persona, PASSWORD)
        checks = PageChecks(page, english=english)
        checks.check()
        return checks

    yield _open
    for context in contexts:
        context.close()


def _policy(year: int) -> None:
    YearPolicy.objects.get_or_create(
        year=year,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )


def _dates() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = max(today - datetime.timedelta(days=4), datetime.date(today.year, 1, 1))
    return start, min(start + datetime.timedelta(days=1), today)


def _declare(world, persona="teacher_a1", state="submitted", title="区级教研活动"):
    from hours import services

    start, end = _dates()
    data = {
        "year": start.year,
        "category": "professional",
        "activity_type": "teaching_research",
        "title": title,
        "organiser": "越秀区教育发展中心",
        "start_date": start,
        "end_date": end,
        "hours": Decimal("6"),
        "certificate_number": f"JR-{title}",
        "certificate_in_chinese": True,
        "certificate_states_hours": True,
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    decl = services.declaration_save(
        role=world.roles[persona],
        actor=world.users[persona],
        data=data,
        files=[("certificate", SimpleUploadedFile("证书.png", demo_png(sum(map(ord, title)) % 997), content_type="image/png"))],
        submit=True,
    )
    if state == "school_approved":
        services.declaration_transition(
            declaration_id=decl.pk, action="school_approve", role=_school_role(world, persona), actor=world.users["city_admin"]
        )
    return Declaration.objects.get(pk=decl.pk)


def _school_role(world, persona):
    school = world.teachers[persona].school
    return next(r for p, r in world.roles.items() if r.kind == "school_admin" and r.organisation_id == school.pk)


def _assert_accessible(checks: PageChecks) -> None:
    violations = checks.axe()
    assert violations == [], f"{checks.page.url}: {violations}"


# --- teacher: declare, withdraw, resubmit, follow results, points ---------------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_teacher_declares_withdraws_resubmits_and_follows_results(
    live_world, as_role, private_media, viewport, english, tmp_path
):
    _policy(timezone.localdate().year)
    Year.objects.get_or_create(year=timezone.localdate().year, defaults=Year.defaults_for(timezone.localdate().year))
    t = as_role("teacher_a1", viewport, english)
    page = t.page
    _assert_accessible(t)
    t.goto("/hours/declarations/new/")
    _assert_accessible(t)
    start, end = _dates()
    form = page.get_by_test_id("declaration-form")
    form.locator("select[name=category]").select_option("professional")
    form.locator("select[name=activity_type]").select_option("teaching_research")
    form.locator("input[name=title]").fill("区级教研活动")
    form.locator("input[name=organiser]").fill("越秀区教育发展中心")
    form.locator("input[name=start_date]").fill(start.isoformat())
    form.locator("input[name=end_date]").fill(end.isoformat())
    form.locator("input[name=hours]").fill("6")
    expect(page.get_by_test_id("evidence-translation")).to_be_hidden()
    form.locator("input[name=certificate_in_chinese][value=False]").check()
    expect(page.get_by_test_id("evidence-translation")).to_be_visible()  # shown once the answer needs it
    form.locator("input[name=certificate_in_chinese][value=True]").check()
    certificate = tmp_path / "certificate.png"
    certificate.write_bytes(demo_png(7))
    page.get_by_test_id("file-certificate").set_input_files(str(certificate))
    page.get_by_test_id("submit-declaration").click()
    expect(page.get_by_test_id("declaration-state")).to_be_visible()
    t.check()
    decl = Declaration.objects.get()
    assert decl.state == DeclarationState.SUBMITTED
    expect(page.get_by_test_id("evidence-name")).to_have_text("certificate.png")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("withdraw-declaration").click()
    expect(page.get_by_test_id("submit-existing")).to_be_visible()
    t.check()
    decl.refresh_from_db()
    assert decl.state == DeclarationState.DRAFT
    page.get_by_test_id("submit-existing").click()
    expect(page.get_by_test_id("withdraw-declaration")).to_be_visible()
    t.check()
    decl.refresh_from_db()
    assert decl.state == DeclarationState.SUBMITTED

    for path in ("/hours/", "/hours/declarations/", "/verification/my/", "/points/", "/hours/notifications/"):
        t.goto(path)
    _assert_accessible(t)


# --- school: review, roster, notice, payments ------------------------------------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_school_reviews_the_queue_and_keeps_its_roster(live_world, as_role, private_media, viewport, english):
    world = live_world
    _policy(timezone.localdate().year)
    first, second = _declare(world, title="校本研修一"), _declare(world, title="校本研修二")
    s = as_role("school_a1_admin", viewport, english)
    page = s.page
    s.goto("/hours/review/")
    _assert_accessible(s)
    # Returning without a reason: the refusal shows beside that item.
    page.get_by_test_id(f"return-{second.pk}").click()
    expect(page.get_by_test_id(f"review-error-{second.pk}")).to_be_visible()
    s.check()
    # Bulk approval with nothing ticked says so, and asks before approving what is ticked.
    page.get_by_test_id("bulk-approve").click()
    expect(page.locator(".js-note")).to_be_visible()
    page.locator(f"#pick-{first.pk}").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("bulk-approve").click()
    expect(page.get_by_test_id(f"queue-item-{first.pk}")).to_have_count(0)
    s.check()
    assert Declaration.objects.get(pk=first.pk).state == DeclarationState.SCHOOL_APPROVED
    for path in ("/roster/", "/roster/import/", "/verification/notice/", "/points/requests/"):
        s.goto(path)
    _assert_accessible(s)
    page.get_by_test_id("confirm-paid").click()  # nothing ticked: said on the page, nothing sent
    expect(page.locator(".js-note")).to_be_visible()
    assert page.url.endswith("/points/requests/")


# --- principal: enrolment approval, the school's results -------------------------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_principal_approves_enrolments(live_world, as_role, viewport, english):
    world = live_world
    today = timezone.localdate()
    project = projects.project_save(
        role=world.roles["city_admin"],
        actor=world.users["city_admin"],
        data={
            "title": "市级骨干教师研修班",
            "category": "professional",
            "hours": Decimal("6"),
            "start_date": today,
            "end_date": today,
            "level": "city",
            "kind": "training",
            "mode": "face_to_face",
            "enrolment_start": today - datetime.timedelta(days=1),
            "enrolment_end": today + datetime.timedelta(days=5),
            "description": "",
        },
    )
    projects.project_publish(role=world.roles["city_admin"], project=project)
    enrolment = projects.enrolment_apply(role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], project=project)
    p = as_role("principal_a1", viewport, english)
    _assert_accessible(p)
    p.goto("/hours/enrolments/")
    _assert_accessible(p)
    p.page.get_by_test_id(f"enrolment-{enrolment.pk}").check()
    p.page.get_by_test_id("approve-enrolments").click()
    expect(p.page.get_by_test_id(f"enrolment-{enrolment.pk}")).to_have_count(0)
    p.check()
    enrolment.refresh_from_db()
    assert enrolment.state == "principal_approved"
    for path in ("/roster/", "/verification/notice/", "/verification/statistics/"):
        p.goto(path)


# --- district and city centre: second-level review, complaints, results -----------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
@pytest.mark.parametrize(("persona", "teacher"), [("district_a_admin", "teacher_a1"), ("city_direct_admin", "teacher_c1")])
def test_district_and_city_centre_approve_at_second_level(
    live_world, as_role, private_media, viewport, english, persona, teacher
):
    world = live_world
    _policy(timezone.localdate().year)
    decl = _declare(world, persona=teacher, state="school_approved", title="学科带头人研修")
    d = as_role(persona, viewport, english)
    _assert_accessible(d)
    d.goto("/hours/review/")
    _assert_accessible(d)
    d.page.get_by_test_id(f"approve-{decl.pk}").click()
    expect(d.page.get_by_test_id(f"queue-item-{decl.pk}")).to_have_count(0)
    d.check()
    decl.refresh_from_db()
    assert decl.state == DeclarationState.APPROVED
    for path in ("/verification/results/", "/verification/complaints/", "/verification/confirmations/", "/roster/"):
        d.goto(path)
    _assert_accessible(d)


# --- city: a provisional run, statistics, exports, settings ----------------------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_city_runs_a_provisional_verification_and_reads_the_statistics(live_world, as_role, private_media, viewport, english):
    year = timezone.localdate().year
    _policy(year)
    Year.objects.get_or_create(year=year, defaults=Year.defaults_for(year))
    c = as_role("city_admin", viewport, english)
    page = c.page
    _assert_accessible(c)
    c.goto("/verification/runs/")
    _assert_accessible(c)
    page.get_by_test_id("run-form").locator("input[name=year]").fill(str(year))
    page.get_by_test_id("start-run").click()  # the final run: refused before the last review deadline
    expect(page.locator(".messages")).to_be_visible()
    c.check()
    page.get_by_test_id("run-form").locator("input[name=year]").fill(str(year))
    page.get_by_test_id("start-provisional").click()
    expect(page.get_by_test_id("provisional-note")).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_have_text(re.compile(r"已完成|Done|Finished|Completed", re.I))
    c.check()
    c.goto(f"/verification/statistics/?year={year}")
    expect(page.get_by_test_id("provisional-note")).to_be_visible()
    labels = page.evaluate("() => Chart.getChart(document.getElementById('chart-units')).data.labels")
    assert sorted(labels) == sorted(["越秀区", "海珠区", "市直属"])
    _assert_accessible(c)
    c.goto("/verification/exports/")
    _assert_accessible(c)
    for path in ("/verification/policies/", "/hours/years/", "/points/rules/", "/orgs/"):
        c.goto(path)


# --- provider: a project without enrolment, attendance by ticking and by upload ---------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_provider_registers_attendance_by_ticking_and_by_upload(live_world, as_role, private_media, viewport, english, tmp_path):
    from openpyxl import Workbook

    world = live_world
    today = timezone.localdate()
    project = projects.project_save(
        role=world.roles["provider"],
        actor=world.users["provider"],
        data={
            "title": "班主任工作坊",
            "category": "elective",
            "hours": Decimal("6"),
            "start_date": today,
            "end_date": today,
            "level": "city",
            "kind": "training",
            "mode": "face_to_face",
            "enrolment_start": None,
            "enrolment_end": None,
            "description": "",
        },
    )
    projects.project_publish(role=world.roles["provider"], project=project)
    v = as_role("provider", viewport, english)
    page = v.page
    _assert_accessible(v)
    if viewport is PHONE:  # the phone menu opens from its button
        page.get_by_test_id("menu-toggle").click()
        expect(page.locator("#site-menu")).to_be_visible()
    v.goto("/hours/projects/new/")
    _assert_accessible(v)
    v.goto(f"/hours/projects/{project.pk}/")
    _assert_accessible(v)
    search = page.get_by_test_id("candidate-search")
    search.locator("input[name=q]").fill("南华")
    search.get_by_role("button").click()
    b1 = world.teachers["teacher_b1"]
    page.get_by_test_id(f"tick-{b1.pk}").check()
    page.get_by_test_id("register").click()
    expect(page.get_by_test_id("registered-count")).to_have_text("1")
    v.check()

    workbook = Workbook()
    workbook.active.append(list(REGISTRATION_HEADERS))
    c1 = world.teachers["teacher_c1"]
    workbook.active.append([c1.id_number, c1.name, 6, today.isoformat()])
    path = tmp_path / "attendance.xlsx"
    workbook.save(path)
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    page.get_by_test_id("upload-registration").click()
    v.check()
    page.get_by_test_id("confirm-import").click()
    v.check()
    v.goto(f"/hours/projects/{project.pk}/")
    expect(page.get_by_test_id("registered-count")).to_have_text("2")
