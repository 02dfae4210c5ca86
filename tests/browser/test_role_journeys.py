"""Every role's main jobs in Chromium, at a desk (1366×900, Chinese) and on a phone (390×844, English).

On every page a journey visits (tests/browser/checks.py): nothing wider than the window, no console
error, and in English no Chinese left but data. axe-core runs over each role's main page and forms and
must find no "serious" or "critical" violation.

Each journey does the job, as a user would, and checks what the user then sees:
- teacher: declares, withdraws, resubmits; exchanges points for hours (the request pending, hours and points);
- school admin: reviews the queue, publishes the results on notice; adds and edits a teacher, imports a
  roster file (its errors, then the confirmed import), confirms a points exchange paid;
- principal: approves enrolments; confirms the school's results after the notice;
- district / city centre: approves at the second level, resolves a complaint, confirms the district;
- city admin: runs a provisional verification, reads the statistics, edits a year's minimums and deadline
  and the points exchange window;
- provider: creates a project with enrolment and one without through the form, registers attendance.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone, translation
from openpyxl import Workbook
from playwright.sync_api import expect

from accounts.models import Subject, Teacher
from accounts.roster_import import HEADERS as ROSTER_HEADERS
from demo.hours import demo_png
from hours.models import Declaration, DeclarationState, Year
from points.models import ExchangeRequest, RequestState
from tests.conftest import PASSWORD
from tests.factories import valid_id_number
from tests.verification.conftest import verify
from training import projects
from training.imports import REGISTRATION_HEADERS
from training.models import TrainingProject
from verification import services as verification_services
from verification.models import ComplaintState, Confirmation, Notice, ResultComplaint, YearPolicy

from .checks import DESK, PHONE, PageChecks
from .conftest import log_in
from .test_points_journey import points_to_exchange
from .test_spring_journey import SPRING, hours_of_2025

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


def _said(checks: PageChecks, text: str) -> str:
    """The message `text` (its Chinese msgid) as this journey's user reads it: Chinese, or English on the phone."""
    with translation.override("en" if checks.english else "zh-hans"):
        return translation.gettext(text)


def _row(page, testid: str, text: str):
    """The row of the table `testid` that holds `text` (a name, a title)."""
    return page.get_by_test_id(testid).locator("tbody tr").filter(has_text=text)


def _admin_of(world, school):
    return next(r for r in world.roles.values() if r.kind == "school_admin" and r.organisation_id == school.pk)


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


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_teacher_exchanges_points_for_hours(live_world, as_role, viewport, english):
    teacher = live_world.teachers["teacher_a1"]
    points_to_exchange(teacher)  # 350 points this year, in an exchange window open all year
    t = as_role("teacher_a1", viewport, english)
    page = t.page
    t.goto("/points/")
    expect(page.get_by_test_id("balance")).to_have_text("350")
    expect(page.get_by_test_id("can-elective")).to_have_text("3")
    form = page.get_by_test_id("exchange-form")
    form.locator("select[name=category]").select_option("elective")
    form.locator("input[name=hours]").fill("3")
    page.get_by_test_id("request-exchange").click()
    expect(page.get_by_role("status")).to_have_text(_said(t, "兑换申请已提交，积分已冻结，等待学校确认。"))
    t.check()
    # The request waits for the school, 3 elective hours for 300 points, held until then.
    expect(page.get_by_test_id("balance")).to_have_text("50")
    expect(page.get_by_test_id("held")).to_have_text("300")
    request = ExchangeRequest.objects.get(teacher=teacher)
    row = page.get_by_test_id("requests").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text(_said(t, "个人选修科目"))
    expect(row.get_by_role("cell").nth(2)).to_have_text("3.0")
    expect(row.get_by_role("cell").nth(3)).to_have_text("300")
    expect(page.get_by_test_id(f"request-state-{request.pk}")).to_have_text(_said(t, "待学校确认"))
    assert (request.hours, request.points, request.state) == (3, 300, RequestState.PENDING)
    _assert_accessible(t)


# --- school: review, roster, notice, payments ------------------------------------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_school_reviews_the_queue_and_publishes_its_results(live_world, as_role, private_media, viewport, english):
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

    # The city verified 2025 after its last review deadline (as in the spring journey): the school
    # publishes its results for 7 days, and sees them on notice.
    hours_of_2025(world)
    with time_machine.travel(SPRING, tick=True):
        verify(world, 2025)
        s.goto("/verification/notice/?year=2025")
        _assert_accessible(s)
        page.get_by_test_id("publish-notice").click()
        expect(page.get_by_test_id("notice-window")).to_contain_text(_said(s, "公示中"))
        expect(page.get_by_test_id("notice-window")).to_contain_text("2026-03-10")
        expect(_row(page, "notice-table", world.teachers["teacher_a1"].name)).to_have_count(1)
        s.check()
    assert Notice.objects.get(school=world.school_a1, year=2025).published_by == world.users["school_a1_admin"]


def _roster_xlsx(tmp_path, name: str, rows: list[tuple[str, str]]) -> str:
    """A roster file in the import template's columns: (name, ID number) teachers of school A1."""
    workbook = Workbook()
    workbook.active.append(ROSTER_HEADERS)
    for teacher_name, id_number in rows:
        workbook.active.append(
            [teacher_name, id_number, "A1", "女", "小学", "语文", "一级教师", "专任教师", "2015-09-01", "", ""]
        )
    path = tmp_path / name
    workbook.save(path)
    return str(path)


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_school_keeps_its_roster_and_confirms_points_exchanges(live_world, as_role, viewport, english, tmp_path):
    from points import services as points_services

    world = live_world
    s = as_role("school_a1_admin", viewport, english)
    page = s.page
    s.goto("/roster/")
    _assert_accessible(s)

    # Add a teacher through the form: the roster lists them.
    page.get_by_test_id("add-teacher").click()
    form = page.get_by_test_id("teacher-form")
    _assert_accessible(s)
    form.locator("input[name=name]").fill("林晓雯")
    form.locator("input[name=id_number]").fill(valid_id_number())
    form.locator("select[name=gender]").select_option("F")
    form.locator("select[name=stage]").select_option("primary")
    form.locator("select[name=subject]").select_option("chinese")
    form.locator("select[name=title]").select_option("grade2")
    form.locator("select[name=post_type]").select_option("teacher")
    form.locator("input[name=first_employment_date]").fill("2018-09-01")
    form.locator("button[type=submit]").click()
    added = Teacher.objects.get(name="林晓雯")
    expect(page.get_by_role("status")).to_have_text(
        _said(s, "已添加教师 %(name)s，继续教育证号 %(no)s。") % {"name": "林晓雯", "no": added.cpd_number}
    )
    s.check()
    s.goto("/roster/")
    expect(_row(page, "roster-table", "林晓雯")).to_contain_text(added.cpd_number)

    # Edit them: she teaches mathematics now, and the roster says so.
    _row(page, "roster-table", "林晓雯").get_by_role("link", name="林晓雯").click()
    page.get_by_test_id("edit-teacher").click()
    page.get_by_test_id("teacher-form").locator("select[name=subject]").select_option("math")
    page.get_by_test_id("teacher-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("teacher-subject")).to_have_text(_said(s, Subject.MATH.label))
    s.check()
    s.goto("/roster/")
    expect(_row(page, "roster-table", "林晓雯")).to_contain_text(_said(s, Subject.MATH.label))
    s.check()

    # Import a roster file: a wrong ID number is shown by row and column and nothing is imported;
    # the corrected file passes the dry run and the two teachers join the roster.
    page.get_by_test_id("import-roster").click()
    s.check()
    _assert_accessible(s)
    good = valid_id_number()
    page.locator("input[type=file][name=file]").set_input_files(
        _roster_xlsx(tmp_path, "roster-wrong.xlsx", [("导入教师甲", good), ("导入教师乙", "44010419900101123")])
    )
    page.get_by_test_id("upload-form").locator("button[type=submit]").click()
    errors = page.get_by_test_id("import-errors").locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.get_by_role("cell").nth(0)).to_have_text("3")
    expect(errors.get_by_role("cell").nth(1)).to_have_text(_said(s, "身份证号"))
    expect(page.get_by_test_id("confirm-import")).to_have_count(0)
    s.check()
    page.get_by_test_id("back-to-import").click()
    page.locator("input[type=file][name=file]").set_input_files(
        _roster_xlsx(tmp_path, "roster.xlsx", [("导入教师甲", good), ("导入教师乙", valid_id_number())])
    )
    page.get_by_test_id("upload-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("new-rows")).to_have_text("2")
    s.check()
    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("imported-count")).to_have_text("2")
    s.check()
    s.goto("/roster/")
    for name in ("导入教师甲", "导入教师乙", "林晓雯"):
        expect(_row(page, "roster-table", name)).to_have_count(1)
    s.check()

    # A teacher asked to exchange points: the school ticks the request and confirms it paid.
    points_to_exchange(world.teachers["teacher_a1"])
    request = points_services.exchange_request(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], category="elective", hours=3
    )
    s.goto("/points/requests/")
    page.get_by_test_id("confirm-paid").click()  # nothing ticked: said on the page, nothing sent
    expect(page.locator(".js-note")).to_be_visible()
    page.get_by_test_id(f"pick-{request.pk}").check()
    page.get_by_test_id("confirm-paid").click()
    expect(page.get_by_role("status")).to_have_text(_said(s, "已确认 %(n)s 份兑换，学时已计入。") % {"n": 1})
    expect(page.get_by_test_id(f"pick-{request.pk}")).to_have_count(0)
    s.check()
    page.locator("main").get_by_role("link", name=_said(s, "全部"), exact=True).click()  # the paid ones too
    expect(_row(page, "school-requests", world.teachers["teacher_a1"].name)).to_contain_text(_said(s, "已兑换"))
    s.check()
    _assert_accessible(s)
    assert ExchangeRequest.objects.get(pk=request.pk).state == RequestState.PAID


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
    for path in ("/roster/", "/verification/statistics/"):
        p.goto(path)

    # The school's 2025 results (as in the spring journey): verified after the last review deadline,
    # on notice for 7 days; once the notice has ended the principal confirms them.
    hours_of_2025(world)
    with time_machine.travel(SPRING, tick=True) as traveller:
        verify(world, 2025)
        verification_services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=2025)
        traveller.shift(datetime.timedelta(days=8))
        p.goto("/verification/notice/?year=2025")
        _assert_accessible(p)
        expect(_row(p.page, "notice-table", world.teachers["teacher_a1"].name)).to_have_count(1)
        p.page.get_by_test_id("principal-confirm").click()
        expect(p.page.get_by_test_id("school-confirmed")).to_have_text(
            _said(p, "校长已于 %(d)s 确认上报（%(u)s）。") % {"d": "2026-03-18", "u": world.users["principal_a1"]}
        )
        p.check()
    confirmation = Confirmation.objects.get(organisation=world.school_a1, year=2025)
    assert confirmation.confirmed_by == world.users["principal_a1"]


# --- district and city centre: second-level review, complaints, results -----------------------------------


@pytest.mark.parametrize(("viewport", "english"), SIZES)
@pytest.mark.parametrize(("persona", "teacher"), [("district_a_admin", "teacher_a1"), ("city_direct_admin", "teacher_c1")])
def test_district_and_city_centre_review_resolve_a_complaint_and_confirm_their_results(
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
    for path in ("/verification/results/", "/roster/"):
        d.goto(path)
    _assert_accessible(d)

    # 2025 verified, the district's schools on notice; the teacher complains about a figure.
    hours_of_2025(world)
    district = world.roles[persona].organisation
    schools = [s for s in (world.school_a1, world.school_a2, world.school_c1) if s.parent_id == district.pk]
    with time_machine.travel(SPRING, tick=True) as traveller:
        verify(world, 2025)
        for school in schools:
            admin = _admin_of(world, school)
            verification_services.notice_publish(role=admin, actor=admin.user, year=2025)
        complaint = verification_services.complaint_file(
            role=world.roles[teacher],
            actor=world.users[teacher],
            year=2025,
            field="professional",
            message="4月的区级培训应为56学时",
        )
        traveller.shift(datetime.timedelta(days=8))
        # The district resolves the complaint: the figure stands.
        # TODO(issue 12, district corrections): uphold it and correct the hours from the complaint once
        # districts can (another branch adds that), and see the corrected figure in the results.
        d.goto("/verification/complaints/")
        _assert_accessible(d)
        d.page.get_by_test_id(f"resolution-{complaint.pk}").fill("核对登记记录，维持原结果")
        d.page.get_by_test_id(f"dismiss-{complaint.pk}").click()
        row = _row(d.page, "result-complaints", world.teachers[teacher].name)
        expect(row).to_contain_text(_said(d, "不属实"))
        expect(row).to_contain_text("核对登记记录，维持原结果")
        d.check()
        assert ResultComplaint.objects.get(pk=complaint.pk).state == ComplaintState.DISMISSED
        # The principals confirm their schools (the principal's own journey does that in the browser),
        # then the district confirms its results.
        for school in schools:
            Confirmation.objects.create(organisation=school, year=2025)
        d.goto("/verification/confirmations/?year=2025")
        _assert_accessible(d)
        d.page.get_by_test_id("district-confirm").click()
        expect(d.page.get_by_test_id("district-confirmed")).to_have_text(_said(d, "本区结果已确认。"))
        for school in schools:
            expect(_row(d.page, "confirmations", school.name)).to_contain_text(_said(d, "已确认"))
        d.check()
    assert Confirmation.objects.filter(organisation=district, year=2025, confirmed_by=world.users[persona]).exists()


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
    for path in ("/hours/years/", "/orgs/"):
        c.goto(path)

    # Settings: this year's minimums (more electives) and the district review deadline a week later.
    c.goto(f"/verification/policies/?edit={year}")
    _assert_accessible(c)
    form = page.get_by_test_id("policy-form")
    form.locator("input[name=min_total]").fill("96")
    form.locator("input[name=min_elective]").fill("24")
    form.locator("input[name=district_review_deadline]").fill(f"{year + 1}-03-07")
    form.locator("button").click()
    expect(page.get_by_role("status")).to_have_text(_said(c, "%(year)s年度的标准已保存。") % {"year": year})
    cells = (
        page.get_by_test_id("policies")
        .locator("tbody tr")
        .filter(has=page.get_by_role("cell", name=str(year), exact=True))
        .get_by_role("cell")
    )
    expect(cells.nth(1)).to_have_text("96.0")
    expect(cells.nth(4)).to_have_text("24.0")
    expect(cells.nth(7)).to_have_text(f"{year}-12-31 / {year + 1}-01-31 / {year + 1}-03-07")
    c.check()
    policy = YearPolicy.objects.get(year=year)
    assert (policy.min_total, policy.min_elective) == (96, 24)
    assert Year.objects.get(year=year).district_review_deadline == datetime.date(year + 1, 3, 7)

    # The points exchange window of next year: March.
    c.goto("/points/rules/")
    _assert_accessible(c)
    window = page.get_by_test_id("window-form")
    window.locator("input[name=year]").fill(str(year + 1))
    window.locator("input[name=opens_on]").fill(f"{year + 1}-03-01")
    window.locator("input[name=closes_on]").fill(f"{year + 1}-03-31")
    window.locator("button").click()
    expect(page.get_by_role("status")).to_have_text(_said(c, "兑换时间已保存。"))
    expect(_row(page, "windows", str(year + 1)).get_by_role("cell")).to_have_text(
        [str(year + 1), f"{year + 1}-03-01 ~ {year + 1}-03-31"]
    )
    c.check()


# --- provider: a project without enrolment, attendance by ticking and by upload ---------------------------


def _new_project(checks: PageChecks, title: str, *, enrolment: tuple[datetime.date, datetime.date] | None) -> int:
    """Create and publish a project through the form, as the provider does; its id."""
    page = checks.page
    today = timezone.localdate()
    checks.goto("/hours/projects/")
    page.get_by_test_id("new-project").click()
    form = page.get_by_test_id("project-form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=category]").select_option("elective")
    form.locator("input[name=hours]").fill("6")
    form.locator("input[name=start_date]").fill(today.isoformat())
    form.locator("input[name=end_date]").fill(today.isoformat())
    form.locator("select[name=level]").select_option("city")
    form.locator("select[name=kind]").select_option("training")
    form.locator("select[name=mode]").select_option("face_to_face")
    if enrolment:  # 需报名: the enrolment dates; 无需报名: left empty
        form.locator("input[name=enrolment_start]").fill(enrolment[0].isoformat())
        form.locator("input[name=enrolment_end]").fill(enrolment[1].isoformat())
    form.locator("button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text(_said(checks, "项目已保存。"))
    checks.check()
    page.get_by_test_id("publish").click()
    expect(page.get_by_role("status")).to_have_text(_said(checks, "项目已发布。"))
    checks.check()
    return TrainingProject.objects.get(title=title).pk


@pytest.mark.parametrize(("viewport", "english"), SIZES)
def test_provider_registers_attendance_by_ticking_and_by_upload(live_world, as_role, private_media, viewport, english, tmp_path):
    world = live_world
    today = timezone.localdate()
    v = as_role("provider", viewport, english)
    page = v.page
    _assert_accessible(v)
    if viewport is PHONE:  # the phone menu opens from its button
        page.get_by_test_id("menu-toggle").click()
        expect(page.locator("#site-menu")).to_be_visible()
    v.goto("/hours/projects/new/")
    _assert_accessible(v)
    # Two projects through the form: one teachers enrol in (需报名), one they do not (无需报名).
    enrolment_end = today + datetime.timedelta(days=5)
    _new_project(v, "骨干班主任研修班", enrolment=(today, enrolment_end))
    pk = _new_project(v, "班主任工作坊", enrolment=None)
    v.goto("/hours/projects/?mine=1")
    expect(_row(page, "projects", "骨干班主任研修班").get_by_role("cell").nth(6)).to_have_text(
        f"{_said(v, '报名中')}（{_said(v, '至')}{enrolment_end:%m-%d}）"
    )
    expect(_row(page, "projects", "班主任工作坊").get_by_role("cell").nth(6)).to_have_text(_said(v, "无需报名"))
    _row(page, "projects", "班主任工作坊").get_by_role("link", name="班主任工作坊").click()
    v.check()
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
    v.goto(f"/hours/projects/{pk}/")
    expect(page.get_by_test_id("registered-count")).to_have_text("2")
