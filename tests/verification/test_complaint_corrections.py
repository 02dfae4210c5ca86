"""A complaint upheld by the district leads to the correction of the teacher's hours (SPEC §3, §5): the
district revokes a wrong entry or adds missed hours from the complaint, always with a reason; the
correction is linked to the complaint, counted by `hours.ledger`, told to the teacher, and makes the
year's results stale until the city verifies again (the principal cannot confirm stale results)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cpd.errors import NotFound, StateConflict
from hours import ledger
from hours import services as hours_services
from hours.models import Category, LedgerEntry, Notification, Year
from verification import services
from verification.models import NOTICE_DAYS, ComplaintCorrection, ResultComplaint, VerificationResult, YearPolicy

from .conftest import CST, entry, give, verify

D = Decimal
YEAR = 2025
# 2026-03-10 09:00 in Guangzhou: 2025's review deadlines have passed, the final run and the notice follow.
PUBLISHED = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=CST)
AFTER_WINDOW = datetime.timedelta(days=NOTICE_DAYS, minutes=1)


@pytest.fixture
def complained(world):
    """育才小学老师 (teacher_a1) has 2025: public 20 + 10 (two topics), professional 50, elective 18 = 98;
    verified, the school's notice published, and a complaint that 安全教育专题 should be 12 hours. The clock
    is an hour after the run, so a correction now is newer than the result."""
    a1 = world.teachers["teacher_a1"]
    entry(a1, YEAR, Category.PUBLIC, 20, title="师德师风专题")
    world.wrong = entry(a1, YEAR, Category.PUBLIC, 10, title="安全教育专题")
    give(a1, YEAR, professional=50, elective=18)
    give(world.teachers["teacher_a2"], YEAR, public=30, professional=42, elective=18)
    with time_machine.travel(PUBLISHED, tick=False) as traveller:
        verify(world, YEAR)
        services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=YEAR)
        services.complaint_file(
            role=world.roles["teacher_a1"],
            actor=world.users["teacher_a1"],
            year=YEAR,
            field="public",
            message="安全教育专题应为12学时",
        )
        traveller.shift(datetime.timedelta(hours=1))
        world.traveller = traveller
        world.complaint = ResultComplaint.objects.get()
        world.a1 = a1
        yield world


def correct(world, persona="district_a_admin", **kwargs):
    return services.complaint_correct(role=world.roles[persona], actor=world.users[persona], complaint=world.complaint, **kwargs)


def resolve(world, upheld: bool):
    return services.complaint_resolve(
        role=world.roles["district_a_admin"],
        actor=world.users["district_a_admin"],
        complaint=world.complaint,
        upheld=upheld,
        resolution="已核实" if upheld else "无误",
    )


def figures(world):
    return ledger.teacher_year_figures(teacher_id=world.a1.pk, year=YEAR)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def shown(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1).strip()


# --- the service --------------------------------------------------------------------------------------------


def test_district_revokes_a_wrong_entry_and_adds_the_missed_hours_linked_to_the_complaint(complained):
    world = complained
    assert (figures(world).public, figures(world).total) == (D(30), D(98))
    correct(world, revokes=world.wrong.pk, reason="安全教育专题登记有误")
    assert (figures(world).public, figures(world).total) == (D(20), D(88))
    correct(world, category=Category.PUBLIC, hours=D("12"), title="安全教育专题", reason="按证书补登12学时")
    assert (figures(world).public, figures(world).total) == (D(32), D(100))

    rows = list(world.complaint.corrections.select_related("entry"))
    assert [(r.entry.hours, r.entry.revokes_id, r.entry.reason) for r in rows] == [
        (D(-10), world.wrong.pk, "安全教育专题登记有误"),
        (D(12), None, "按证书补登12学时"),
    ]
    assert {r.entry.actor for r in rows} == {world.users["district_a_admin"]}
    told = list(Notification.objects.filter(user=world.users["teacher_a1"]).values_list("message", flat=True))
    assert any("撤销 10.0 学时（安全教育专题）" in m for m in told)
    assert any("补登 12.0 学时（安全教育专题）" in m for m in told)


def test_the_years_data_lock_does_not_stop_a_correction_through_a_complaint(complained):
    """The notice and its complaints come after the review deadline, when the year's data is locked."""
    world = complained
    Year.get_or_create_for(YEAR)
    Year.objects.filter(year=YEAR).update(locked_at=timezone.now())
    correct(world, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(world).elective == D(24)


def test_finalised_year_is_corrected_only_by_the_city(complained):
    world = complained
    YearPolicy.objects.filter(year=YEAR).update(finalised_at=timezone.now())
    with pytest.raises(PermissionDenied, match="已定稿"):
        correct(world, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(world).elective == D(18)
    correct(world, "city_admin", category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(world).elective == D(24)


@pytest.mark.parametrize("persona", ["district_b_admin", "city_direct_admin"])
def test_another_districts_admin_cannot_find_the_complaint(complained, persona):
    with pytest.raises(NotFound):
        correct(complained, persona, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert not ComplaintCorrection.objects.exists()
    assert figures(complained).total == D(98)


@pytest.mark.parametrize("persona", ["teacher_a1", "school_a1_admin", "principal_a1"])
def test_only_the_district_and_the_city_correct(complained, persona):
    with pytest.raises(PermissionDenied):
        correct(complained, persona, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(complained).total == D(98)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"category": Category.ELECTIVE, "hours": D("6"), "reason": "  "}, "reason"),
        ({"category": "nonsense", "hours": D("6"), "reason": "漏登"}, "category"),
        ({"category": Category.ELECTIVE, "hours": D("0"), "reason": "漏登"}, "hours"),
        ({"category": Category.ELECTIVE, "hours": D("1000"), "reason": "漏登"}, "hours"),
        ({"category": Category.ELECTIVE, "hours": D("1.25"), "reason": "漏登"}, "hours"),
        ({"category": Category.ELECTIVE, "reason": "漏登"}, "hours"),
    ],
)
def test_bad_input_is_a_field_error(complained, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        correct(complained, **kwargs)
    assert field in exc.value.message_dict
    assert figures(complained).total == D(98)


def test_revoke_needs_a_reason_and_an_entry_of_the_complaints_teacher_and_year(complained):
    world = complained
    with pytest.raises(ValidationError) as exc:
        correct(world, revokes=world.wrong.pk, reason="")
    assert "reason" in exc.value.message_dict
    others = [
        LedgerEntry.objects.filter(teacher=world.teachers["teacher_a2"]).first(),
        entry(world.a1, YEAR - 1, Category.PUBLIC, 10, title="2024专题"),
    ]
    for other in others:
        with pytest.raises(ValidationError) as exc:
            correct(world, revokes=other.pk, reason="登记有误")
        assert "revokes" in exc.value.message_dict
    assert not LedgerEntry.objects.filter(revokes__isnull=False).exists()


def test_a_dismissed_complaint_gives_no_power_to_correct_but_an_upheld_one_does(complained):
    world = complained
    resolve(world, upheld=False)
    with pytest.raises(PermissionDenied, match="不属实"):
        correct(world, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    ResultComplaint.objects.filter(pk=world.complaint.pk).update(state="upheld")
    correct(world, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(world).elective == D(24)


def test_without_a_complaint_the_district_cannot_correct(complained):
    world = complained
    with pytest.raises(PermissionDenied):
        hours_services.ledger_correction(
            role=world.roles["district_a_admin"], actor=world.users["district_a_admin"], reason="x", revokes=world.wrong
        )
    district = world.client("district_a_admin")
    assert district.post(f"/hours/ledger/{world.wrong.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert 'name="reason"' not in page(district.get(f"/hours/teacher/{world.a1.pk}/?year={YEAR}"))
    assert figures(world).total == D(98)


def test_no_correction_through_the_complaint_once_the_principal_confirmed(complained):
    world = complained
    resolve(world, upheld=True)
    world.traveller.shift(AFTER_WINDOW)
    services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)
    with pytest.raises(StateConflict, match="确认上报"):
        correct(world, category=Category.ELECTIVE, hours=D("6"), reason="漏登")
    assert figures(world).elective == D(18)


def test_the_principal_confirms_corrected_results_only_after_the_city_verifies_again(complained):
    world = complained
    correct(world, revokes=world.wrong.pk, reason="安全教育专题登记有误")
    correct(world, category=Category.PUBLIC, hours=D("12"), title="安全教育专题", reason="按证书补登")
    resolve(world, upheld=True)
    world.traveller.shift(AFTER_WINDOW)
    with pytest.raises(StateConflict, match="重新验证"):
        services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)
    verify(world, YEAR)
    result = VerificationResult.objects.get(teacher=world.a1, year=YEAR)
    assert (result.public, result.total) == (D(32), D(100))
    services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)


# --- the pages ------------------------------------------------------------------------------------------------


def test_the_complaints_page_offers_the_correction_to_the_district_only(complained):
    world = complained
    link = f'href="/verification/complaints/{world.complaint.pk}/correct/"'
    html = page(world.client("district_a_admin").get("/verification/complaints/"))
    assert link in html and "更正学时" in html
    school = page(world.client("school_a1_admin").get("/verification/complaints/"))
    assert link not in school and f"/hours/teacher/{world.a1.pk}/?year={YEAR}" in school


def test_upholding_offers_the_correction_right_there(complained):
    world = complained
    html = page(
        world.client("district_a_admin").post(
            "/verification/complaints/",
            {"complaint": world.complaint.pk, "decision": "upheld", "resolution": "安全教育专题应为12学时，已核实"},
            follow=True,
        )
    )
    assert "更正学时" in html
    assert re.search(
        rf'href="/verification/complaints/{world.complaint.pk}/correct/" data-testid="correct-{world.complaint.pk}"', html
    )


def test_the_correction_page_shows_the_teachers_counted_hours_with_the_controls(complained):
    world = complained
    html = page(world.client("district_a_admin").get(f"/verification/complaints/{world.complaint.pk}/correct/"))
    assert shown(html, "total-1") == "30.0" and shown(html, "total-4") == "98.0"
    assert f'data-testid="revoke-{world.wrong.pk}"' in html
    assert 'data-testid="add-hours"' in html
    assert "安全教育专题应为12学时" in html  # the complaint it answers


def test_district_adds_missed_hours_on_the_page_and_the_teacher_sees_the_corrected_total(complained):
    world = complained
    district = world.client("district_a_admin")
    url = f"/verification/complaints/{world.complaint.pk}/correct/"
    response = district.post(
        url,
        {
            "action": "add",
            "add-category": "elective",
            "add-hours": "6",
            "add-title": "班主任培训",
            "add-reason": "证书齐全，漏登",
        },
    )
    assert response.status_code == 302
    assert shown(page(district.get(url)), "total-4") == "104.0"
    mine = page(world.client("teacher_a1").get(f"/hours/?year={YEAR}"))
    assert shown(mine, "total-3") == "24.0" and shown(mine, "total-4") == "104.0"
    assert "证书齐全，漏登" in mine
    complaints = page(district.get("/verification/complaints/"))
    assert "已更正：补登个人选修科目 6.0 学时（班主任培训）" in complaints
    assert f'data-testid="needs-rerun-{world.complaint.pk}"' in complaints
    assert 'data-testid="needs-rerun"' in page(district.get(f"/verification/results/?year={YEAR}"))
    notes = page(world.client("teacher_a1").get("/hours/notifications/"))
    assert "补登 6.0 学时（班主任培训）" in notes
    results = page(world.client("teacher_a1").get("/verification/my/"))
    assert "已更正：补登个人选修科目 6.0 学时（班主任培训）" in results
    assert f'href="/hours/?year={YEAR}" data-testid="corrected-hours-{world.complaint.pk}"' in results
    assert "验证结果将在市里重新验证后更新" in results


def test_district_revokes_an_entry_on_the_page(complained):
    world = complained
    district = world.client("district_a_admin")
    url = f"/verification/complaints/{world.complaint.pk}/correct/"
    assert district.post(url, {"action": "revoke", "entry": world.wrong.pk, "reason": "登记有误"}).status_code == 302
    assert shown(page(world.client("teacher_a1").get(f"/hours/?year={YEAR}")), "total-4") == "88.0"
    assert "已更正：撤销 10.0 学时（安全教育专题）" in page(district.get("/verification/complaints/"))
    # rerun: the stale warning goes
    verify(world, YEAR)
    assert 'data-testid="needs-rerun"' not in page(district.get(f"/verification/results/?year={YEAR}"))


@pytest.mark.parametrize(
    "data",
    [
        {"action": "add", "add-category": "elective", "add-hours": "6", "add-reason": ""},
        {"action": "add", "add-category": "elective", "add-hours": "abc", "add-reason": "漏登"},
        {"action": "add", "add-category": "nonsense", "add-hours": "6", "add-reason": "漏登"},
        {"action": "add", "add-category": "elective", "add-hours": "99999999999", "add-reason": "漏登"},
        {"action": "revoke", "entry": "1", "reason": ""},
        {"action": "revoke", "entry": "abc", "reason": "x"},
        {"action": "revoke", "entry": "99999999999999999999999", "reason": "x"},
    ],
)
def test_bad_input_on_the_page_is_a_400_with_the_error(complained, data):
    world = complained
    response = world.client("district_a_admin").post(f"/verification/complaints/{world.complaint.pk}/correct/", data)
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not ComplaintCorrection.objects.exists()


def test_revoking_another_teachers_entry_on_the_page_is_refused(complained):
    world = complained
    other = LedgerEntry.objects.filter(teacher=world.teachers["teacher_a2"]).first()
    response = world.client("district_a_admin").post(
        f"/verification/complaints/{world.complaint.pk}/correct/", {"action": "revoke", "entry": other.pk, "reason": "x"}
    )
    assert response.status_code == 400 and "不是本异议所涉教师" in response.content.decode()
    assert not LedgerEntry.objects.filter(revokes=other).exists()


def test_the_correction_page_refuses_who_may_not_correct(complained):
    world = complained
    url = f"/verification/complaints/{world.complaint.pk}/correct/"
    assert world.client("school_a1_admin").get(url).status_code == 403
    assert world.client("teacher_a1").get(url).status_code == 403
    assert world.client("district_b_admin").get(url).status_code == 404
    resolve(world, upheld=False)
    refused = world.client("district_a_admin").get(url)
    assert refused.status_code == 403 and "不属实" in refused.content.decode()


def test_after_the_principals_confirmation_the_page_is_read_only(complained):
    world = complained
    resolve(world, upheld=True)
    world.traveller.shift(AFTER_WINDOW)
    services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)
    district = world.client("district_a_admin")
    url = f"/verification/complaints/{world.complaint.pk}/correct/"
    html = page(district.get(url))
    assert "已由校长确认上报" in html and 'data-testid="add-hours"' not in html
    data = {"action": "add", "add-category": "elective", "add-hours": "6", "add-reason": "漏登"}
    assert district.post(url, data).status_code == 403
    assert figures(world).total == D(98)


# --- the API ---------------------------------------------------------------------------------------------------


def api_url(world) -> str:
    return f"/api/v1/result-complaints/{world.complaint.pk}/corrections/"


def test_api_district_corrects_through_the_complaint(complained):
    world = complained
    api = world.api("district_a_admin")
    added = api.post(
        api_url(world), {"category": "professional", "hours": "4.0", "title": "区教研", "reason": "漏登"}, format="json"
    )
    assert added.status_code == 201, added.content
    assert (added.data["entry"]["hours"], added.data["revoked_hours"]) == ("4.0", None)
    revoked = api.post(api_url(world), {"revokes": world.wrong.pk, "reason": "登记有误"}, format="json")
    assert revoked.status_code == 201, revoked.content
    assert (revoked.data["entry"]["hours"], revoked.data["revoked_hours"]) == ("-10.0", "10.0")
    listed = api.get(api_url(world))
    assert [row["id"] for row in listed.data] == [added.data["id"], revoked.data["id"]]
    shown = world.api("teacher_a1").get(f"/api/v1/ledger/figures/?year={YEAR}")
    assert (shown.data["public"], shown.data["professional"], shown.data["total"]) == ("20.0", "54.0", "92.0")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "漏登"}, "hours"),
        ({"reason": "漏登", "hours": "6"}, "category"),
        ({"reason": "漏登", "category": "elective", "hours": "abc"}, "hours"),
        ({"reason": "漏登", "category": "elective", "hours": "-1"}, "hours"),
        ({"reason": "漏登", "revokes": 99999999}, "revokes"),
        ({"reason": "漏登", "revokes": "x"}, "revokes"),
    ],
)
def test_api_bad_input_is_400_with_the_field(complained, body, field):
    response = complained.api("district_a_admin").post(api_url(complained), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.data
    assert not ComplaintCorrection.objects.exists()


def test_api_refusals(complained):
    world = complained
    body = {"category": "elective", "hours": "6", "reason": "漏登"}
    assert world.api("district_b_admin").post(api_url(world), body, format="json").status_code == 404
    assert world.api("teacher_a1").post(api_url(world), body, format="json").status_code == 403
    assert world.api("school_a1_admin").post(api_url(world), body, format="json").status_code == 403
    YearPolicy.objects.filter(year=YEAR).update(finalised_at=timezone.now())
    finalised = world.api("district_a_admin").post(api_url(world), body, format="json")
    assert finalised.status_code == 403 and "已定稿" in str(finalised.data)
    YearPolicy.objects.filter(year=YEAR).update(finalised_at=None)
    resolve(world, upheld=True)
    world.traveller.shift(AFTER_WINDOW)
    services.school_confirm(role=world.roles["principal_a1"], actor=world.users["principal_a1"], year=YEAR)
    assert world.api("district_a_admin").post(api_url(world), body, format="json").status_code == 409
    assert not ComplaintCorrection.objects.exists()


def test_openapi_documents_the_corrections_endpoint(db):
    from django.test import Client

    schema = Client().get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/result-complaints/{id}/corrections/"]
    assert {"get", "post"} <= set(operations)
    assert "ComplaintCorrectionCreate" in str(operations["post"]["requestBody"])


def test_a_reviewer_browsing_in_english_stores_the_teachers_notices_in_chinese_and_each_reader_gets_their_language(
    complained,
):
    """Notices are stored in the platform's language whatever the writer's request language; a teacher
    reading in English gets them translated at display time (cpd.i18n.translate_stored)."""
    from django.utils import translation

    from cpd.i18n import translate_stored

    with translation.override("en"):
        resolve(complained, upheld=True)
        correct(complained, category=Category.PUBLIC, hours=D("2"), title="安全教育专题", reason="按证书补登")
    stored = list(
        Notification.objects.filter(user=complained.users["teacher_a1"]).order_by("pk").values_list("message", flat=True)
    )
    assert stored[-2:] == [
        "您对2025年度验证结果的异议已处理：已核实",
        "您2025年度的学时已按您的异议更正：补登 2.0 学时（安全教育专题）。",
    ]
    with translation.override("en"):
        shown = translate_stored(stored[-2])
    assert shown != stored[-2] and "2025" in shown and "已核实" in shown and "异议" not in shown


def test_a_correction_without_a_title_is_stored_in_chinese_and_shown_in_the_readers_language(complained):
    from django.utils import translation

    with translation.override("en"):
        link = correct(complained, category=Category.ELECTIVE, hours=D("2"), reason="漏登")
    assert link.entry.title == "学时更正"  # stored in the platform's language, whoever wrote it
    client = complained.client("teacher_a1")
    client.cookies["django_language"] = "en"
    page = client.get(f"/hours/?year={YEAR}").content.decode()
    assert "Hours correction" in page
    assert "学时更正" not in page
