"""Public notice (公示), complaints, the principal's and the district's confirmation, and the city's
finalisation that locks the year (SPEC §5)."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.models import OrgKind, Role, RoleKind
from cpd.errors import StateConflict
from hours.models import Category, LedgerEntry, Notification, Source, Year
from verification import services
from verification.models import (
    NOTICE_DAYS,
    ComplaintState,
    Confirmation,
    Notice,
    PolicyRevision,
    ResultComplaint,
    YearPolicy,
)

from ..factories import OrganisationFactory, TeacherFactory, UserFactory
from .conftest import CST, give, verify

D = Decimal
YEAR = 2025
# 2026-03-10 09:00 in Guangzhou: 2025's review deadlines (Jan 31, Feb 28) have passed.
PUBLISHED = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=CST)
AFTER_WINDOW = datetime.timedelta(days=NOTICE_DAYS, minutes=1)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def verified(world):
    """2025 verified for the personas plus a second teacher of 育才小学; time frozen at PUBLISHED."""
    colleague = TeacherFactory(school=world.school_a1, name="育才小学王老师")
    give(world.teachers["teacher_a1"], YEAR, public=30, professional=50, elective=18)  # passes, carries 8
    give(colleague, YEAR, public=30, professional=30, elective=18)  # fails, 12 professional short
    with time_machine.travel(PUBLISHED, tick=False) as traveller:
        verify(world, YEAR)
        world.colleague = colleague
        world.traveller = traveller
        yield world


def publish(world, persona="school_a1_admin"):
    return world.client(persona).post("/verification/notice/", {"action": "publish", "year": YEAR})


def complain(world, field="professional", message="区教研培训应为42学时，公示为30学时。"):
    return world.client("teacher_a1").post(
        f"/verification/my/{YEAR}/complain/", {"field": field, "message": message}, follow=True
    )


# --- notice --------------------------------------------------------------------------------------------------


def test_school_admin_publishes_a_seven_day_notice_listing_the_school(verified):
    world = verified
    response = publish(world)
    assert response.status_code == 302
    notice = Notice.objects.get(school=world.school_a1, year=YEAR)
    assert (notice.published_at, notice.ends_at) == (PUBLISHED, PUBLISHED + datetime.timedelta(days=7))
    html = page(world.client("school_a1_admin").get(f"/verification/notice/?year={YEAR}"))
    assert "公示期：2026-03-10 09:00 至 2026-03-17 09:00" in html
    assert "育才小学老师" in html and "育才小学王老师" in html
    assert "东山中学老师" not in html  # another school's teacher
    # teachers of the school see the notice too
    assert "育才小学王老师" in page(world.client("teacher_a1").get(f"/verification/notice/?year={YEAR}"))


def test_notice_excel_lists_the_schools_teachers_with_their_figures(verified):
    world = verified
    publish(world)
    response = world.client("school_a1_admin").get(f"/verification/notice/?year={YEAR}&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "姓名"
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"育才小学老师", "育才小学王老师"}
    # name, cpd no., public, professional (own), carry-in, elective, total, result, carry-out
    a1 = by_name["育才小学老师"]
    assert [D(str(v)) for v in (a1[2], a1[3], a1[5], a1[6], a1[8])] == [D(30), D(50), D(18), D(98), D(8)]
    assert a1[7] == "合格"
    assert by_name["育才小学王老师"][7] == "不合格"


def test_notice_cannot_be_published_twice_or_without_results(verified):
    world = verified
    publish(world)
    html = page(world.client("school_a1_admin").post("/verification/notice/", {"action": "publish", "year": YEAR}, follow=True))
    assert "已于 2026-03-10 公示" in html
    assert Notice.objects.count() == 1
    with pytest.raises(StateConflict):
        services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=2024)


def test_teacher_cannot_publish_a_notice(verified):
    with pytest.raises(PermissionDenied):
        services.notice_publish(role=verified.roles["teacher_a1"], actor=verified.users["teacher_a1"], year=YEAR)


# --- complaints ------------------------------------------------------------------------------------------------


def test_teacher_complains_about_a_figure_during_the_window(verified):
    world = verified
    publish(world)
    my_page = page(world.client("teacher_a1").get("/verification/my/"))
    assert f'data-testid="complain-{YEAR}"' in my_page
    html = page(complain(world))
    assert "异议已提交" in html
    complaint = ResultComplaint.objects.get()
    assert (complaint.field, complaint.state, complaint.result.teacher) == (
        "professional",
        ComplaintState.OPEN,
        world.teachers["teacher_a1"],
    )
    # the school and its district see it; another district does not
    assert "区教研培训应为42学时" in page(world.client("school_a1_admin").get("/verification/complaints/"))
    assert "区教研培训应为42学时" in page(world.client("district_a_admin").get("/verification/complaints/"))
    assert "区教研培训应为42学时" not in page(world.client("district_b_admin").get("/verification/complaints/"))


def test_teacher_cannot_complain_before_the_notice_or_after_it_ends(verified):
    world = verified
    assert "学校尚未公示2025年度的结果" in page(complain(world))
    publish(world)
    world.traveller.shift(AFTER_WINDOW)
    assert f'data-testid="complain-{YEAR}"' not in page(world.client("teacher_a1").get("/verification/my/"))
    assert "公示期已于 2026-03-17 09:00 结束" in page(complain(world))
    assert not ResultComplaint.objects.exists()


def test_complaint_at_the_last_minute_of_the_window_is_accepted(verified):
    world = verified
    publish(world)
    world.traveller.shift(datetime.timedelta(days=NOTICE_DAYS, seconds=-1))
    complain(world)
    assert ResultComplaint.objects.count() == 1


def test_complaint_needs_a_known_field_and_a_reason(verified):
    world = verified
    publish(world)
    complain(world, field="salary")
    complain(world, message="  ")
    assert not ResultComplaint.objects.exists()


def test_district_records_the_resolution_and_the_teacher_is_told(verified):
    world = verified
    publish(world)
    complain(world)
    complaint = ResultComplaint.objects.get()
    # another district cannot even see it
    other = world.client("district_b_admin").post(
        "/verification/complaints/", {"complaint": complaint.pk, "decision": "upheld", "resolution": "x"}
    )
    assert other.status_code == 404
    response = world.client("district_a_admin").post(
        "/verification/complaints/",
        {"complaint": complaint.pk, "decision": "dismissed", "resolution": "经核实，登记为30学时无误。"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.state, complaint.resolution, complaint.resolved_by) == (
        ComplaintState.DISMISSED,
        "经核实，登记为30学时无误。",
        world.users["district_a_admin"],
    )
    note = Notification.objects.get(user=world.users["teacher_a1"])
    assert "经核实，登记为30学时无误。" in note.message
    assert "经核实，登记为30学时无误。" in page(world.client("teacher_a1").get("/verification/my/"))


def test_school_admin_cannot_resolve_a_complaint(verified):
    world = verified
    publish(world)
    complain(world)
    complaint = ResultComplaint.objects.get()
    world.client("school_a1_admin").post(
        "/verification/complaints/", {"complaint": complaint.pk, "decision": "upheld", "resolution": "x"}
    )
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.OPEN


# --- confirmations ---------------------------------------------------------------------------------------------


def confirm_as_principal(world):
    return world.client("principal_a1").post("/verification/notice/", {"action": "confirm", "year": YEAR}, follow=True)


def test_principal_confirms_only_after_the_window_and_with_no_open_complaint(verified):
    world = verified
    publish(world)
    complain(world)
    assert "公示期至 2026-03-17 09:00 结束" in page(confirm_as_principal(world))
    world.traveller.shift(AFTER_WINDOW)
    assert "还有未处理的异议" in page(confirm_as_principal(world))
    assert not Confirmation.objects.exists()
    complaint = ResultComplaint.objects.get()
    services.complaint_resolve(
        role=world.roles["district_a_admin"],
        actor=world.users["district_a_admin"],
        complaint=complaint,
        upheld=False,
        resolution="无误",
    )
    assert "已确认上报本校结果" in page(confirm_as_principal(world))
    confirmation = Confirmation.objects.get(organisation=world.school_a1, year=YEAR)
    assert confirmation.confirmed_by == world.users["principal_a1"]
    # once confirmed, nothing more to confirm
    with pytest.raises(StateConflict):
        services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)


def test_principal_cannot_confirm_before_publishing(verified):
    assert "请先公示本校结果" in page(confirm_as_principal(verified))
    assert not Confirmation.objects.exists()


def test_school_admin_cannot_confirm_for_the_principal(verified):
    world = verified
    publish(world)
    world.traveller.shift(AFTER_WINDOW)
    response = world.client("school_a1_admin").post("/verification/notice/", {"action": "confirm", "year": YEAR})
    assert response.status_code == 403
    assert not Confirmation.objects.exists()


def _principal(world, school):
    user = UserFactory()
    return Role.objects.create(user=user, kind=RoleKind.PRINCIPAL, organisation=school)


def _publish_and_confirm(world, schools):
    """Publish each school's notice now; after the window each principal confirms."""
    admins = {
        world.school_a1: "school_a1_admin",
        world.school_a2: "school_a2_admin",
        world.school_b1: "school_b1_admin",
        world.school_c1: "school_c1_admin",
    }
    for school in schools:
        services.notice_publish(role=world.roles[admins[school]], actor=world.users[admins[school]], year=YEAR)
    world.traveller.shift(AFTER_WINDOW)
    for school in schools:
        role = world.roles["principal_a1"] if school == world.school_a1 else _principal(world, school)
        services.school_confirm(role=role, actor=role.user, year=YEAR)


def district_confirm(world, persona):
    return world.client(persona).post("/verification/confirmations/", {"year": YEAR}, follow=True)


def test_district_confirms_only_when_all_its_schools_with_results_are_confirmed(verified):
    world = verified
    OrganisationFactory(name="新建小学", kind=OrgKind.SCHOOL, parent=world.district_a)  # no teachers, no results: not awaited
    _publish_and_confirm(world, [world.school_a1])
    html = page(district_confirm(world, "district_a_admin"))
    assert "以下学校尚未确认：东山中学" in html
    assert not Confirmation.objects.filter(organisation=world.district_a).exists()
    role = _principal(world, world.school_a2)
    services.notice_publish(role=world.roles["school_a2_admin"], actor=world.users["school_a2_admin"], year=YEAR)
    world.traveller.shift(AFTER_WINDOW)
    services.school_confirm(role=role, actor=role.user, year=YEAR)
    assert "已确认本区结果" in page(district_confirm(world, "district_a_admin"))
    assert Confirmation.objects.get(organisation=world.district_a, year=YEAR).confirmed_by == world.users["district_a_admin"]


def test_city_finalises_only_when_all_districts_are_confirmed(verified):
    world = verified
    _publish_and_confirm(world, [world.school_a1, world.school_a2, world.school_b1, world.school_c1])
    district_confirm(world, "district_a_admin")
    html = page(district_confirm(world, "city_admin"))
    assert "以下区尚未确认：市直属、海珠区" in html or "以下区尚未确认：海珠区、市直属" in html
    assert not YearPolicy.objects.get(year=YEAR).is_finalised
    district_confirm(world, "district_b_admin")
    district_confirm(world, "city_direct_admin")
    html = page(district_confirm(world, "city_admin"))
    assert "2025年度已定稿并锁定" in html
    policy = YearPolicy.objects.get(year=YEAR)
    assert (policy.finalised_at, policy.finalised_by) == (PUBLISHED + AFTER_WINDOW, world.users["city_admin"])
    assert Year.objects.get(year=YEAR).locked_at == PUBLISHED + AFTER_WINDOW
    # a1's 8 professional hours above 42 are now in the 2026 ledger
    carried = LedgerEntry.objects.get(source=Source.CARRY_OVER)
    assert (carried.teacher, carried.year, carried.category, carried.hours) == (
        world.teachers["teacher_a1"],
        2026,
        Category.PROFESSIONAL,
        D(8),
    )


def test_after_finalising_the_policy_cannot_be_edited(verified):
    world = verified
    _publish_and_confirm(world, [world.school_a1, world.school_a2, world.school_b1, world.school_c1])
    for persona in ("district_a_admin", "district_b_admin", "city_direct_admin"):
        district_confirm(world, persona)
    district_confirm(world, "city_admin")
    revisions = PolicyRevision.objects.count()
    with pytest.raises(StateConflict):
        services.policy_update(
            role=world.roles["city_admin"], actor=world.users["city_admin"], year=YEAR, data={"min_total": D(100)}
        )
    form = {
        "year": YEAR,
        "min_total": "100",
        "min_public": "30",
        "min_professional": "42",
        "min_elective": "18",
        "hours_per_day": "6",
        "carry_rule": "2022",
        "declaration_deadline": "2025-12-31",
        "school_review_deadline": "2026-01-31",
        "district_review_deadline": "2026-02-28",
    }
    html = page(world.client("city_admin").post("/verification/policies/", form, follow=True))
    assert "2025年度已定稿，不能再更改" in html
    assert YearPolicy.objects.get(year=YEAR).min_total == D(90)
    assert PolicyRevision.objects.count() == revisions
    # the results can no longer be published or confirmed either
    with pytest.raises(StateConflict):
        services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=YEAR)
