"""The five-year cycle regime (SPEC §7; Zhengzhou 郑教明电〔2017〕139号): 360 hours per cycle of
which 80 school-based, the pace of about 72 hours a year, new teachers' first year, the degree
exemption, design permissions per level with the city's approval of county key-teacher projects,
the registration certificate with its public check, statistics per level and the demo.

Time is frozen at 2026-06-15 (CST). A teacher first employed on 2004-06-15 is then in the cycle
2024-06-15 .. 2029-06-15 (2004 → 2009 → 2014 → 2019 → 2024), exactly two years (730 days) in.
"""

from __future__ import annotations

import datetime
import io
import itertools
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, User
from cpd.errors import StateConflict
from cycles import rules as cycles
from cycles.models import CycleCertificate, CycleState, TeacherCycle
from demo.accounts import DEMO_PASSWORD
from hours import services as hours_services
from hours.models import Category, Declaration, LedgerEntry, Source
from tests.conftest import World, force_login_verified
from tests.factories import OrganisationFactory, TeacherFactory, UserFactory
from training import projects as project_services
from training.models import ApprovalState, ProjectKind, TrainingProject

pytestmark = pytest.mark.cycle

CST = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.date(2026, 6, 15)
VETERAN = datetime.date(2004, 6, 15)  # → cycle 2024-06-15 .. 2029-06-15 on TODAY
IN_CYCLE = datetime.date(2026, 5, 4)
_n = itertools.count(1)


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=CST), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cycle_regime(settings):
    settings.CPD_REGIME = "cycle"


@pytest.fixture
def private_media(settings, tmp_path):
    """Declaration evidence goes to a throw-away folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


def give(teacher, hours, *, day=IN_CYCLE, school_based=False, new_teacher=False) -> LedgerEntry:
    """A registered entry of `hours` for a training that ended on `day`."""
    return LedgerEntry.objects.create(
        teacher=teacher,
        year=day.year,
        category=Category.PROFESSIONAL,
        hours=Decimal(str(hours)),
        source=Source.REGISTRATION,
        title=f"培训{next(_n)}",
        start_date=day,
        end_date=day,
        school_based=school_based,
        new_teacher=new_teacher,
    )


def veteran(world: World, persona: str = "teacher_a1", name: str | None = None) -> Teacher:
    teacher = world.teachers[persona]
    teacher.first_employment_date = VETERAN
    if name:
        teacher.name = name
    teacher.save()
    return teacher


def hours_of(teacher, *, total, school_based, day=IN_CYCLE) -> None:
    """`total` hours in the cycle, `school_based` of them school-based (in entries of at most 40 hours)."""
    for amount, sb in ((Decimal(total) - Decimal(school_based), False), (Decimal(school_based), True)):
        while amount > 0:
            step = min(Decimal(40), amount)
            give(teacher, step, day=day, school_based=sb)
            amount -= step


def cycle_page(world: World, persona: str = "teacher_a1") -> str:
    response = world.client(persona).get("/verification/cycle/")
    assert response.status_code == 200
    return response.content.decode()


# --- 1. cycle arithmetic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "school_based", "complete", "missing_total", "missing_school_based"),
    [
        (300, 80, False, Decimal("60"), Decimal("0")),
        (360, 80, True, Decimal("0"), Decimal("0")),
        (400, 70, False, Decimal("0"), Decimal("10")),
    ],
)
def test_a_cycle_needs_360_hours_of_which_80_school_based(
    world, frozen, total, school_based, complete, missing_total, missing_school_based
):
    teacher = veteran(world)
    hours_of(teacher, total=total, school_based=school_based)

    p = cycles.progress(teacher)

    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2024, 6, 15), datetime.date(2029, 6, 15))
    assert (p.total, p.school_based) == (Decimal(total), Decimal(school_based))
    assert p.complete is complete
    assert (p.missing_total, p.missing_school_based) == (missing_total, missing_school_based)
    page = cycle_page(world)
    assert ('data-testid="cycle-complete"' in page) is complete
    assert ('data-testid="download-certificate"' in page) is complete
    if not complete:
        assert re.search(rf"还差 {missing_total}(\.0)? 学时，其中校本研修还差 {missing_school_based}(\.0)? 学时", page)


def test_hours_dated_outside_the_cycle_do_not_count(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=300, school_based=80)
    give(teacher, 100, day=datetime.date(2024, 6, 14))  # the day before the cycle started
    give(teacher, 40, day=datetime.date(2029, 6, 15), school_based=True)  # the day the next cycle starts

    p = cycles.progress(teacher)

    assert (p.total, p.school_based, p.complete) == (Decimal("300"), Decimal("80"), False)
    assert re.search(r'data-testid="cycle-total">300(\.0)?<', cycle_page(world))


def test_revoked_hours_do_not_count(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=360, school_based=80)  # 280 + 40 + 40 school-based
    wrong = LedgerEntry.objects.filter(teacher=teacher, school_based=True).first()
    hours_services.ledger_correction(
        role=world.roles["city_admin"], actor=world.users["city_admin"], reason="未参加该校本研修", revokes=wrong
    )

    p = cycles.progress(teacher)

    assert (p.total, p.school_based) == (Decimal("320"), Decimal("40"))
    assert p.complete is False
    assert (p.missing_total, p.missing_school_based) == (Decimal("40"), Decimal("40"))


def test_a_new_teacher_sees_the_first_year_new_teacher_training_apart(world, frozen):
    teacher = world.teachers["teacher_a1"]
    teacher.first_employment_date = datetime.date(2025, 9, 1)  # first employed inside the cycle it starts
    teacher.save()
    give(teacher, 48, day=datetime.date(2025, 10, 20), new_teacher=True)
    give(teacher, 30, day=datetime.date(2026, 3, 2))

    p = cycles.progress(teacher)

    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2025, 9, 1), datetime.date(2030, 9, 1))
    assert p.is_new_teacher is True
    assert p.new_teacher_hours == Decimal("48")
    assert p.new_teacher_deadline == datetime.date(2026, 9, 1)
    assert p.total == Decimal("78")  # new-teacher training is part of the cycle's 360
    page = cycle_page(world)
    box = re.search(r'data-testid="new-teacher">(.*?)</div>', page, re.S).group(1)
    assert re.search(r"已完成 48(\.0)? / 120(\.0)? 学时", box)
    assert "2026-09-01" in box


def test_a_new_hire_whose_record_opened_the_cycle_before_the_first_employment_date_was_filled_in_is_a_new_teacher(world, frozen):
    """The school adds its new hire to the roster in August; the nightly job opens the cycle before the
    first employment date (September 1) is filled in; from then on the new-teacher rule applies."""
    frozen.move_to(datetime.datetime(2025, 8, 20, 10, tzinfo=CST))
    teacher = TeacherFactory(school=world.school_a1, first_employment_date=None)
    assert cycles.progress(teacher).cycle.start_date == datetime.date(2025, 8, 20)
    assert cycles.cycles_open_due() >= 1

    frozen.move_to(datetime.datetime(2026, 6, 15, 10, tzinfo=CST))
    teacher.first_employment_date = datetime.date(2025, 9, 1)
    teacher.save()
    give(teacher, 36, day=datetime.date(2025, 11, 3), new_teacher=True)

    p = cycles.progress(teacher)
    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2025, 8, 20), datetime.date(2030, 8, 20))
    assert p.is_new_teacher is True
    assert (p.new_teacher_hours, p.new_teacher_deadline) == (Decimal("36"), datetime.date(2026, 9, 1))


def test_looking_at_the_cycle_stores_nothing_and_the_nightly_job_opens_it_once(world, frozen):
    teacher = veteran(world)
    assert "2024-06-15" in cycle_page(world)
    world.client("teacher_a1").get("/api/v1/cycle/")
    assert not TeacherCycle.objects.filter(teacher=teacher).exists()

    from cycles.tasks import open_due_cycles

    open_due_cycles.apply()
    open_due_cycles.apply()
    stored = TeacherCycle.objects.get(teacher=teacher)
    assert (stored.start_date, stored.end_date, stored.state) == (
        datetime.date(2024, 6, 15),
        datetime.date(2029, 6, 15),
        CycleState.ACTIVE,
    )


def test_a_teacher_employed_before_the_cycle_is_not_shown_the_new_teacher_rule(world, frozen):
    teacher = veteran(world)
    give(teacher, 24, new_teacher=True)

    assert cycles.progress(teacher).is_new_teacher is False
    assert 'data-testid="new-teacher"' not in cycle_page(world)


def _degree(world, state: str) -> Declaration:
    """A degree programme that ended inside the cycle, declared by teacher_a1 and reviewed by the school and the district."""
    decl = hours_services.declaration_save(
        role=world.roles["teacher_a1"],
        actor=world.users["teacher_a1"],
        data={
            "year": 2026,
            "category": Category.PROFESSIONAL,
            "activity_type": "degree",
            "title": "教育硕士（在职）",
            "organiser": "华南师范大学",
            "start_date": datetime.date(2026, 1, 5),
            "end_date": datetime.date(2026, 5, 30),
            "hours": Decimal("30"),
            "certificate_number": "XW-2026-0001",
            "certificate_in_chinese": True,
            "certificate_states_hours": True,
        },
        files=[
            (
                "certificate",
                SimpleUploadedFile("diploma.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"),
            )
        ],
        submit=True,
    )
    steps = {
        "approved": [("school_a1_admin", "school_approve", ""), ("district_a_admin", "district_approve", "")],
        "returned": [("school_a1_admin", "school_approve", ""), ("district_a_admin", "district_return", "学位证书未上传完整")],
        "rejected": [("school_a1_admin", "reject", "非教育教学专业学历")],
    }[state]
    for persona, action, reason in steps:
        hours_services.declaration_transition(
            declaration_id=decl.pk, action=action, role=world.roles[persona], actor=world.users[persona], reason=reason
        )
    decl.refresh_from_db()
    assert decl.state == state
    return decl


@pytest.mark.parametrize(("state", "exempt"), [("approved", True), ("returned", False), ("rejected", False)])
def test_a_degree_completed_in_the_cycle_exempts_from_its_360_hours_only_once_approved(
    world, frozen, private_media, state, exempt
):
    teacher = veteran(world)
    hours_of(teacher, total=50, school_based=0)
    _degree(world, state)

    p = cycles.progress(teacher)

    assert p.complete is exempt
    assert p.total == Decimal("80" if exempt else "50")  # the approved degree's 30 hours are in the ledger too
    page = cycle_page(world)
    assert ('data-testid="degree-exempt"' in page) is exempt
    assert ('data-testid="cycle-complete"' in page) is exempt


@pytest.mark.parametrize(("total", "behind"), [(100, True), (150, False)])
def test_two_years_into_the_cycle_fewer_than_144_hours_is_behind_pace(world, frozen, total, behind):
    teacher = veteran(world)
    hours_of(teacher, total=total, school_based=20)

    p = cycles.progress(teacher)

    assert p.years_elapsed == Decimal("2.0")
    assert p.expected_by_now == Decimal("143.9")  # 72 × 730 / 365.25
    assert p.behind_pace is behind
    assert ('data-testid="behind-pace"' in cycle_page(world)) is behind


def test_a_complete_cycle_is_never_behind_pace(world):
    teacher = veteran(world)
    with time_machine.travel(datetime.datetime(2028, 6, 15, 10, tzinfo=CST), tick=False):
        hours_of(teacher, total=360, school_based=80, day=datetime.date(2025, 1, 10))
        p = cycles.progress(teacher)
    assert p.complete is True and p.behind_pace is False


def test_a_cycle_that_ended_without_a_certificate_is_followed_by_the_next_five_years(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=100, school_based=40)
    first = cycles.cycle_open(teacher=teacher)

    frozen.move_to(datetime.datetime(2029, 7, 1, 10, tzinfo=CST))
    p = cycles.progress(teacher)
    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2029, 6, 15), datetime.date(2034, 6, 15))
    cycles.cycles_open_due()  # the nightly job closes the ended cycle and opens the next

    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2029, 6, 15), datetime.date(2034, 6, 15))
    assert p.total == Decimal("0")  # the lapsed cycle's hours stay with it
    first.refresh_from_db()
    assert first.state == CycleState.LAPSED
    assert not CycleCertificate.objects.exists()
    assert "2029-06-15 至 2034-06-15" in cycle_page(world)

    # Nobody looked for a whole cycle: the one that contains today, five years after five years.
    frozen.move_to(datetime.datetime(2035, 1, 1, 10, tzinfo=CST))
    p = cycles.progress(teacher)
    assert (p.cycle.start_date, p.cycle.end_date) == (datetime.date(2034, 6, 15), datetime.date(2039, 6, 15))
    assert TeacherCycle.objects.filter(teacher=teacher, state=CycleState.ACTIVE).count() == 1


# --- 2. design permissions per level and the city's approval ----------------------------------------------------


class Henan:
    """A fresh tree: province → city → district and county → schools, one login per level."""

    def __init__(self):
        self.province = OrganisationFactory(name="河南省", code="41", kind=OrgKind.PROVINCE)
        self.city = OrganisationFactory(name="郑州市", code="4101", kind=OrgKind.CITY, parent=self.province)
        self.district = OrganisationFactory(name="金水区", code="410105", kind=OrgKind.DISTRICT, parent=self.city)
        self.county = OrganisationFactory(name="登封市", code="410185", kind=OrgKind.DISTRICT, parent=self.city)
        self.school = OrganisationFactory(name="纬五路第一小学", code="410105001", kind=OrgKind.SCHOOL, parent=self.district)
        self.county_school = OrganisationFactory(name="嵩阳小学", code="410185001", kind=OrgKind.SCHOOL, parent=self.county)
        self.roles: dict[str, Role] = {}
        for persona, kind, org in [
            ("province", RoleKind.PROVINCE_ADMIN, self.province),
            ("city", RoleKind.CITY_ADMIN, self.city),
            ("district", RoleKind.DISTRICT_ADMIN, self.district),
            ("county", RoleKind.DISTRICT_ADMIN, self.county),
            ("school", RoleKind.SCHOOL_ADMIN, self.school),
            ("county_school", RoleKind.SCHOOL_ADMIN, self.county_school),
            ("teacher", RoleKind.TEACHER, self.county_school),
        ]:
            self.roles[persona] = Role.objects.create(user=UserFactory(username=f"henan-{persona}"), kind=kind, organisation=org)
        self.teacher = TeacherFactory(user=self.roles["teacher"].user, school=self.county_school, name="李思雨")

    def user(self, persona: str) -> User:
        return self.roles[persona].user

    def api(self, persona: str) -> APIClient:
        c = APIClient()
        c.force_authenticate(self.user(persona))
        c.credentials(HTTP_X_CPD_ROLE=str(self.roles[persona].pk))
        return c

    def client(self, persona: str) -> Client:
        c = Client()
        force_login_verified(c, self.user(persona))
        session = c.session
        session["active_role_id"] = self.roles[persona].pk
        session.save()
        return c


@pytest.fixture
def henan(db) -> Henan:
    tree = Henan()
    assert tree.school.path == f"/{tree.province.pk}/{tree.city.pk}/{tree.district.pk}/{tree.school.pk}/"
    return tree


LEVEL = {
    "province": "province",
    "city": "city",
    "district": "district",
    "county": "district",
    "school": "school",
    "county_school": "school",
}


def payload(designer: str, *, stage="any", kind="training", key=False, **extra) -> dict:
    return {
        "title": f"项目{next(_n)}",
        "category": "professional",
        "hours": "12",
        "start_date": "2026-06-01",
        "end_date": "2026-06-03",
        "level": LEVEL[designer],
        "kind": kind,
        "mode": "face_to_face",
        "target_stage": stage,
        "for_key_teachers": key,
        **extra,
    }


def design(henan: Henan, designer: str, **kw) -> TrainingProject:
    data = payload(designer, **kw)
    for f in ("start_date", "end_date"):
        data[f] = datetime.date.fromisoformat(data[f])
    data["hours"] = Decimal(data["hours"])
    return project_services.project_save(role=henan.roles[designer], actor=henan.user(designer), data=data)


ALLOWED = [
    ("province", "senior", "training"),
    ("city", "junior", "training"),
    ("district", "primary", "training"),
    ("county", "kindergarten", "training"),
    ("school", "any", "school_based"),
]
REFUSED = [
    # designer, target stage, kind, field, message
    ("city", "senior", "training", "target_stage", "面向高中教师的项目由省设计。"),
    ("district", "senior", "training", "target_stage", "面向高中教师的项目由省设计。"),
    ("province", "junior", "training", "target_stage", "面向初中教师的项目由市设计。"),
    ("county", "junior", "training", "target_stage", "面向初中教师的项目由市设计。"),
    ("city", "primary", "training", "target_stage", "面向小学教师的项目由区（县）、市直属单位设计。"),
    ("province", "kindergarten", "training", "target_stage", "面向幼儿园教师的项目由区（县）、市直属单位设计。"),
    ("district", "primary", "school_based", "kind", "校本研修项目由学校设计。"),
    ("city", "any", "school_based", "kind", "校本研修项目由学校设计。"),
    ("school", "primary", "training", "kind", "学校只能设计校本研修项目。"),
    ("school", "any", "new_teacher", "kind", "学校只能设计校本研修项目。"),
]


@pytest.mark.parametrize(("designer", "stage", "kind"), ALLOWED)
def test_each_level_designs_projects_for_its_own_teachers(henan, cycle_regime, designer, stage, kind):
    response = henan.api(designer).post("/api/v1/projects/", payload(designer, stage=stage, kind=kind), format="json")
    assert response.status_code == 201, response.content
    project = TrainingProject.objects.get(pk=response.json()["id"])
    assert project.organiser == henan.roles[designer].organisation
    assert project.approval == ApprovalState.NOT_NEEDED


@pytest.mark.parametrize(("designer", "stage", "kind", "field", "message"), REFUSED)
def test_a_project_designed_at_the_wrong_level_is_refused_naming_the_rule(
    henan, cycle_regime, designer, stage, kind, field, message
):
    response = henan.api(designer).post("/api/v1/projects/", payload(designer, stage=stage, kind=kind), format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]
    with pytest.raises(DjangoValidationError) as exc:
        design(henan, designer, stage=stage, kind=kind)
    assert exc.value.message_dict[field] == [message]
    assert not TrainingProject.objects.exists()


def test_a_school_designs_teaching_research_whose_hours_count_as_school_based_but_a_district_does_not(henan, cycle_regime):
    """Lesson observation and teaching research are school-based (校本研修): schools design them and set their hours."""
    project = design(henan, "school", kind=ProjectKind.TEACHING_RESEARCH)
    assert project.organiser == henan.school
    with pytest.raises(DjangoValidationError) as exc:
        design(henan, "district", stage="primary", kind=ProjectKind.TEACHING_RESEARCH)
    assert exc.value.message_dict["kind"] == ["校本研修项目由学校设计。"]


@pytest.mark.parametrize(("designer", "stage", "kind"), [(d, s, k) for d, s, k, _f, _m in REFUSED])
def test_in_the_annual_regime_any_organiser_designs_any_stage(henan, settings, designer, stage, kind):
    settings.CPD_REGIME = "annual"
    response = henan.api(designer).post("/api/v1/projects/", payload(designer, stage=stage, kind=kind), format="json")
    assert response.status_code == 201, response.content


def test_a_county_key_teacher_project_opens_only_after_the_city_approves_it(henan, cycle_regime):
    project = design(henan, "county", stage="primary", key=True)
    assert project.approval == ApprovalState.PENDING

    refused_publish = henan.api("county").post(f"/api/v1/projects/{project.pk}/publish/")
    assert refused_publish.status_code == 409
    assert "须经市教育局批准" in refused_publish.json()["detail"]

    # The city office finds it, sees the approval buttons, and approves it.
    city = henan.client("city")
    detail = city.get(f"/hours/projects/{project.pk}/")
    assert detail.status_code == 200
    assert 'data-testid="approve-project"' in detail.content.decode()
    response = city.post(f"/hours/projects/{project.pk}/approval/", {"decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert "已审批" in response.content.decode()
    project.refresh_from_db()
    assert project.approval == ApprovalState.APPROVED

    published = henan.api("county").post(f"/api/v1/projects/{project.pk}/publish/")
    assert published.status_code == 200
    assert published.json()["published_at"]


def test_the_city_lists_the_county_projects_waiting_for_its_approval(henan, cycle_regime):
    waiting = design(henan, "county", stage="primary", key=True, title="登封市小学骨干教师培训")
    design(henan, "county", stage="primary", title="登封市小学语文教研（草稿）")

    page = henan.client("city").get("/hours/projects/").content.decode()

    assert waiting.title in page
    assert "登封市小学语文教研（草稿）" not in page  # an ordinary draft stays the county's own


@pytest.mark.parametrize("stage", ["senior", "junior"])
def test_a_county_designs_its_own_senior_and_junior_key_teacher_projects_once_the_city_approves(henan, cycle_regime, stage):
    """郑教明电〔2017〕139号: 县级高、初中名师、骨干教师培训项目由县教育局设计，培训方案先经市里审核。"""
    response = henan.api("county").post("/api/v1/projects/", payload("county", stage=stage, key=True), format="json")
    assert response.status_code == 201, response.content
    project = TrainingProject.objects.get(pk=response.json()["id"])
    assert project.approval == ApprovalState.PENDING
    assert henan.api("county").post(f"/api/v1/projects/{project.pk}/publish/").status_code == 409
    project_services.project_approve(role=henan.roles["city"], actor=henan.user("city"), project=project, approve=True)
    assert henan.api("county").post(f"/api/v1/projects/{project.pk}/publish/").status_code == 200


def test_a_refused_key_teacher_project_cannot_be_published(henan, cycle_regime):
    project = design(henan, "county", stage="primary", key=True)
    project_services.project_approve(role=henan.roles["city"], actor=henan.user("city"), project=project, approve=False)
    project.refresh_from_db()
    assert project.approval == ApprovalState.REFUSED

    response = henan.api("county").post(f"/api/v1/projects/{project.pk}/publish/")
    assert response.status_code == 409
    assert "市里未批准" in response.json()["detail"]
    with pytest.raises(StateConflict):
        project_services.project_publish(role=henan.roles["county"], project=project)
    project.refresh_from_db()
    assert project.published_at is None


@pytest.mark.parametrize("persona", ["province", "district", "county", "school"])
def test_only_the_city_approves_a_county_key_teacher_project(henan, cycle_regime, persona):
    project = design(henan, "county", stage="primary", key=True)

    response = henan.client(persona).post(f"/hours/projects/{project.pk}/approval/", {"decision": "approve"})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        project_services.project_approve(role=henan.roles[persona], actor=henan.user(persona), project=project, approve=True)
    project.refresh_from_db()
    assert project.approval == ApprovalState.PENDING


def test_key_teacher_projects_of_the_city_itself_and_of_the_annual_regime_need_no_approval(henan, settings):
    settings.CPD_REGIME = "annual"
    annual = design(henan, "county", stage="primary", key=True)
    assert annual.approval == ApprovalState.NOT_NEEDED
    assert henan.api("county").post(f"/api/v1/projects/{annual.pk}/publish/").status_code == 200

    settings.CPD_REGIME = "cycle"
    city_project = design(henan, "city", stage="junior", key=True)
    assert city_project.approval == ApprovalState.NOT_NEEDED
    assert henan.api("city").post(f"/api/v1/projects/{city_project.pk}/publish/").status_code == 200


@pytest.mark.parametrize(("other", "status"), [("city", 403), ("district", 403), ("county_school", 403), ("province", 403)])
def test_only_the_designer_registers_a_projects_hours(henan, cycle_regime, frozen, other, status):
    project = design(henan, "county", stage="primary")
    project_services.project_publish(role=henan.roles["county"], project=project)
    rows = {"rows": [{"teacher": henan.teacher.pk, "hours": "12"}]}

    response = henan.api(other).post(f"/api/v1/projects/{project.pk}/register/", rows, format="json")
    assert response.status_code == status
    assert not LedgerEntry.objects.exists()

    done = henan.api("county").post(f"/api/v1/projects/{project.pk}/register/", rows, format="json")
    assert done.status_code == 200
    assert done.json() == {"registered": 1, "unchanged": 0}
    entry = LedgerEntry.objects.get(teacher=henan.teacher)
    assert (entry.hours, entry.organiser, entry.school_based) == (Decimal("12"), "登封市", False)


def test_another_organisation_cannot_even_see_a_draft_to_register_it(henan, cycle_regime, frozen):
    project = design(henan, "county", stage="primary")
    response = henan.api("city").post(
        f"/api/v1/projects/{project.pk}/register/", {"rows": [{"teacher": henan.teacher.pk, "hours": "12"}]}, format="json"
    )
    assert response.status_code == 404


def test_a_school_registers_its_school_based_hours_and_they_count_as_school_based(henan, cycle_regime, frozen):
    project = design(henan, "county_school", kind="school_based")
    project_services.project_publish(role=henan.roles["county_school"], project=project)
    project_services.registration_register(
        role=henan.roles["county_school"],
        actor=henan.user("county_school"),
        project=project,
        rows=[(henan.teacher.pk, Decimal("12"))],
    )
    p = cycles.progress(henan.teacher)
    assert (p.total, p.school_based) == (Decimal("12"), Decimal("12"))


# --- 3. the registration certificate ----------------------------------------------------------------


def issue(world: World, persona: str = "teacher_a1") -> CycleCertificate:
    return cycles.certificate_issue(role=world.roles[persona], actor=world.users[persona])


def test_a_complete_cycle_gets_one_certificate_however_often_it_is_asked_for(world, frozen):
    teacher = veteran(world, name="陈晓明")
    hours_of(teacher, total=360, school_based=80)

    first = issue(world)
    again = issue(world)

    assert again.pk == first.pk and again.code == first.code
    assert CycleCertificate.objects.count() == 1
    assert (first.issued_on, first.valid_until) == (TODAY, datetime.date(2031, 6, 15))
    assert (first.total_hours, first.school_based_hours, first.exempt_by_degree) == (Decimal("360"), Decimal("80"), False)
    assert (first.cycle.start_date, first.cycle.end_date) == (datetime.date(2024, 6, 15), datetime.date(2029, 6, 15))
    # Clicking the button twice in the browser lands on the same PDF.
    client = world.client("teacher_a1")
    response = client.post("/verification/cycle/certificate/")
    assert response.status_code == 302 and response["Location"] == f"/verification/cycle/certificate/{first.code}.pdf"
    assert CycleCertificate.objects.count() == 1


def test_the_next_cycle_starts_on_the_certificates_date(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=360, school_based=80)
    cert = issue(world)

    p = cycles.progress(teacher)

    assert (p.cycle.start_date, p.cycle.end_date) == (TODAY, datetime.date(2031, 6, 15))
    assert p.total == Decimal("0") and p.complete is False
    cert.cycle.refresh_from_db()
    assert cert.cycle.state == CycleState.COMPLETED
    page = cycle_page(world)
    assert "2026-06-15 至 2031-06-15" in page
    assert cert.code in page  # listed among the teacher's certificates


def test_hours_counted_for_a_certificate_are_not_counted_again_in_the_next_cycle(world, frozen):
    """Training that ended on the day the certificate was issued completed the old cycle; it does not start the new one."""
    teacher = veteran(world)
    hours_of(teacher, total=348, school_based=80)
    give(teacher, 12, day=TODAY, school_based=True)  # registered this morning
    issue(world)

    frozen.shift(datetime.timedelta(hours=2))
    give(teacher, 6, day=TODAY)  # another training ending today, registered after the certificate

    p = cycles.progress(teacher)
    assert p.cycle.start_date == TODAY
    assert (p.total, p.school_based) == (Decimal("6"), Decimal("0"))
    assert re.search(r'data-testid="cycle-total">6(\.0)?<', cycle_page(world))


def test_an_incomplete_cycle_gets_no_certificate_but_a_message(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=300, school_based=80)

    with pytest.raises(StateConflict) as exc:
        issue(world)
    assert re.search(r"还差 60(\.0)? 学时", exc.value.message)

    response = world.client("teacher_a1").post("/verification/cycle/certificate/", follow=True)
    assert response.status_code == 200
    assert re.search(r"本周期尚未完成：还差 60(\.0)? 学时", response.content.decode())
    assert not CycleCertificate.objects.exists()
    assert cycles.progress(teacher).cycle.start_date == datetime.date(2024, 6, 15)


def test_a_degree_exempt_cycle_gets_its_certificate_marked_as_such(world, frozen, private_media):
    veteran(world)
    _degree(world, "approved")
    cert = issue(world)
    assert cert.exempt_by_degree is True
    assert cert.total_hours == Decimal("30")


@pytest.fixture
def certificate(world, frozen) -> CycleCertificate:
    teacher = veteran(world, name="陈晓明")
    hours_of(teacher, total=360, school_based=80)
    return issue(world)


def test_the_certificate_is_a_chinese_pdf(world, certificate, tmp_path):
    response = world.client("teacher_a1").get(f"/verification/cycle/certificate/{certificate.code}.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"certificate-{certificate.code}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert b"WenQuanYiMicroHei" in pdf  # the CJK font subset is embedded (cpd/pdf_fonts.py)

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the PDF is not rendered")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "30", "-gray", str(path), str(tmp_path / "page")], check=True, timeout=60
    )
    (image,) = tmp_path.glob("page*.pgm")
    magic, width, height, _maxval, pixels = image.read_bytes().split(maxsplit=4)
    assert magic == b"P5"
    assert int(width) > int(height)  # landscape A4
    dark = sum(1 for b in pixels if b < 128)
    assert dark > 500  # the frame and the text are drawn, not a blank page
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
        assert "陈晓明" in text
        assert certificate.code in text
        assert "发证单位：广州市教育局" in text


def test_only_the_teacher_downloads_the_certificate(world, certificate):
    url = f"/verification/cycle/certificate/{certificate.code}.pdf"
    assert world.client("teacher_a2").get(url).status_code == 404
    assert world.client("school_a1_admin").get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_public_check_shows_the_masked_name_dates_and_validity_and_nothing_else(world, certificate):
    teacher = Teacher.objects.get(pk=certificate.teacher_id)

    response = Client().get("/certificates/verify/", {"code": certificate.code})

    assert response.status_code == 200
    html = response.content.decode()
    result = re.search(r'data-testid="verify-result">(.*?)</div>', html, re.S).group(1)
    assert re.search(r'data-testid="verify-name">陈\*明<', result)
    assert "2024-06-15 ~ 2029-06-15" in result
    assert "2026-06-15" in result and "2031-06-15" in result
    assert 'data-testid="verify-valid"' in result
    for secret in (teacher.name, teacher.id_number, teacher.cpd_number, teacher.school.name):
        assert secret not in html
    # Typed in lower case, the code is found all the same.
    assert "陈*明" in Client().get("/certificates/verify/", {"code": certificate.code.lower()}).content.decode()


def test_a_forged_code_is_not_found(world, certificate):
    html = Client().get("/certificates/verify/", {"code": "0123456789ABCDEF"}).content.decode()
    assert 'data-testid="verify-invalid"' in html
    assert "未找到该验证码对应的证书" in html
    assert "陈*明" not in html


def test_a_certificate_checked_after_its_five_years_shows_expired(world, certificate):
    with time_machine.travel(datetime.datetime(2031, 6, 16, 10, tzinfo=CST), tick=False):
        html = Client().get("/certificates/verify/", {"code": certificate.code}).content.decode()
    assert "已过期" in html and 'data-testid="verify-valid"' not in html


@pytest.mark.parametrize(("name", "masked"), [("陈晓明", "陈*明"), ("王芳", "王*"), ("欧阳志远", "欧**远"), ("李", "李")])
def test_names_are_masked(name, masked):
    assert cycles.mask_name(name) == masked


# --- 4. statistics per level ----------------------------------------------------------------------------


@pytest.fixture
def stats_world(world, frozen, private_media) -> World:
    """育才小学 (A1): one complete, one behind, one on pace; 东山中学 (A2): degree-exempt with 30 hours;
    南华小学 (B1): one complete, one with nothing (behind); 市一中 (C1): one with nothing (behind).

    The world's teachers first employed on 2010-09-01 are in the cycle 2025-09-01 .. 2030-09-01,
    287 days in: 72 × 287 / 365.25 ≈ 56.6 hours expected, so 0 hours is behind. Nobody has opened
    their cycle page: the statistics do not depend on that.
    """
    complete_a1 = veteran(world)
    hours_of(complete_a1, total=360, school_based=80)
    hours_of(TeacherFactory(school=world.school_a1, first_employment_date=VETERAN), total=100, school_based=20)
    hours_of(TeacherFactory(school=world.school_a1, first_employment_date=VETERAN), total=150, school_based=20)
    degree_teacher = world.teachers["teacher_a2"]
    hours_services.declaration_save(
        role=world.roles["teacher_a2"],
        actor=world.users["teacher_a2"],
        data={
            "year": 2026,
            "category": Category.PROFESSIONAL,
            "activity_type": "degree",
            "title": "教育硕士",
            "organiser": "华南师范大学",
            "start_date": datetime.date(2026, 1, 5),
            "end_date": datetime.date(2026, 5, 30),
            "hours": Decimal("30"),
            "certificate_number": "XW-2026-0002",
            "certificate_in_chinese": True,
            "certificate_states_hours": True,
        },
        files=[
            ("certificate", SimpleUploadedFile("d.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"))
        ],
        submit=True,
    )
    decl = Declaration.objects.get(teacher=degree_teacher)
    for persona, action in (("school_a2_admin", "school_approve"), ("district_a_admin", "district_approve")):
        hours_services.declaration_transition(
            declaration_id=decl.pk, action=action, role=world.roles[persona], actor=world.users[persona]
        )
    hours_of(TeacherFactory(school=world.school_b1, first_employment_date=VETERAN), total=360, school_based=80)
    assert not TeacherCycle.objects.exists()
    return world


# school → (teachers, complete, behind)
EXPECTED = {"育才小学": (3, 1, 1), "东山中学": (1, 1, 0), "南华小学": (2, 1, 1), "市一中": (1, 0, 1)}
SCOPES = {
    "school_a1_admin": ["育才小学"],
    "principal_a1": ["育才小学"],
    "district_a_admin": ["育才小学", "东山中学"],
    "city_admin": ["育才小学", "东山中学", "南华小学", "市一中"],
}


def _html_rows(html: str) -> dict[str, tuple[int, int, int]]:
    table = re.search(r'<table data-testid="cycle-stats">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = {}
    for cells in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        name, teachers, _with_cycle, complete, behind, _certified = re.findall(r"<td>(.*?)</td>", cells)
        rows[name] = (int(teachers), int(complete), int(behind))
    return rows


@pytest.mark.parametrize("persona", list(SCOPES))
def test_cycle_statistics_show_each_level_its_own_schools(stats_world, persona):
    client = stats_world.client(persona)
    response = client.get("/verification/cycle/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    expected = {school: EXPECTED[school] for school in SCOPES[persona]}

    assert _html_rows(html) == expected
    for other in set(EXPECTED) - set(SCOPES[persona]):
        assert other not in html
    assert re.search(rf'data-testid="cycle-complete-count">{sum(c for _t, c, _b in expected.values())}<', html)

    xlsx = client.get("/verification/cycle/statistics/", {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    header, *data = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == ["学校", "教师", "有进行中周期", "已满学时", "进度落后", "本年发证"]
    assert {r[0]: (r[1], r[3], r[4]) for r in data} == expected


def test_cycle_statistics_count_certificates_issued_this_year(stats_world):
    issue(stats_world)
    html = stats_world.client("school_a1_admin").get("/verification/cycle/statistics/").content.decode()
    row = re.search(r"<tr><td>育才小学</td>(.*?)</tr>", html).group(1)
    # teachers 3, complete 0 (the certified teacher's new cycle has just begun), certified this year 1
    teachers, _with_cycle, complete, _behind, certified = re.findall(r"<td>(\d+)</td>", row)
    assert (teachers, complete, certified) == ("3", "0", "1")


def test_a_teacher_gets_no_cycle_statistics(world):
    assert world.client("teacher_a1").get("/verification/cycle/statistics/").status_code == 403
    assert world.client("teacher_a1").get("/verification/cycle/statistics/", {"format": "xlsx"}).status_code == 403


def _api_rows(world: World, persona: str) -> dict[str, tuple[int, int, int]]:
    return {
        r["unit"]: (r["teachers"], r["complete"], r["behind"])
        for r in world.api(persona).get("/api/v1/cycle-statistics/").json()["rows"]
    }


def test_area_cycle_statistics_read_the_stored_per_school_counts_the_refresh_wrote(stats_world):
    """The district's and the city's statistics sum `CycleSchoolCount` once `cycle_counts_refresh` has run: the
    same rows as worked out live, said to be as of the refresh (page, xlsx and API), and not following the
    ledger until the next refresh; a school's own stay live."""
    from cycles.models import CycleSchoolCount

    live = {persona: _api_rows(stats_world, persona) for persona in SCOPES}
    city = stats_world.client("city_admin")
    assert 'data-testid="cycle-computed"' not in city.get("/verification/cycle/statistics/").content.decode()
    assert stats_world.api("city_admin").get("/api/v1/cycle-statistics/").json()["computed_at"] is None

    schools = Organisation.objects.filter(kind=OrgKind.SCHOOL).count()
    assert cycles.cycle_counts_refresh() == CycleSchoolCount.objects.count() == schools
    assert {persona: _api_rows(stats_world, persona) for persona in SCOPES} == live
    assert 'data-testid="cycle-computed"' in city.get("/verification/cycle/statistics/").content.decode()
    assert stats_world.api("city_admin").get("/api/v1/cycle-statistics/").json()["computed_at"].startswith("2026-06-15T10:00")
    sheet = load_workbook(io.BytesIO(city.get("/verification/cycle/statistics/", {"format": "xlsx"}).content)).active
    assert {r[0]: (r[1], r[3], r[4]) for r in list(sheet.iter_rows(values_only=True))[1:]} == live["city_admin"]

    # a new teacher who completes the cycle: the school's own statistics at once, the areas' at the next refresh
    hours_of(TeacherFactory(school=stats_world.school_a1, first_employment_date=VETERAN), total=360, school_based=80)
    assert _api_rows(stats_world, "school_a1_admin")["育才小学"] == (4, 2, 1)
    assert _api_rows(stats_world, "district_a_admin")["育才小学"] == (3, 1, 1)
    cycles.cycle_counts_refresh()
    assert _api_rows(stats_world, "district_a_admin")["育才小学"] == (4, 2, 1)
    assert _api_rows(stats_world, "city_admin")["育才小学"] == (4, 2, 1)


def test_cycle_statistics_api_rows_are_what_the_row_serializer_gives(stats_world):
    """The API builds its rows without DRF's fields (2,000 schools a city): the same JSON as the serializer."""
    import json

    from cycles.api import CycleStatRowSerializer

    cycles.cycle_counts_refresh()
    for persona in ("city_admin", "school_a1_admin"):
        stats = cycles.cycle_statistics(stats_world.roles[persona])
        expected = CycleStatRowSerializer([{**r, "unit": r["unit"].name, "unit_id": r["unit"].pk} for r in stats], many=True).data
        got = stats_world.api(persona).get("/api/v1/cycle-statistics/").json()["rows"]
        assert got == json.loads(json.dumps(expected)) and len(got) == len(stats)


def test_cycle_statistics_escape_a_schools_name(stats_world):
    stats_world.school_a1.name = '<b>育才&"小学"</b>'
    stats_world.school_a1.save()
    html = stats_world.client("district_a_admin").get("/verification/cycle/statistics/").content.decode()
    assert "<tr><td>&lt;b&gt;育才&amp;&quot;小学&quot;&lt;/b&gt;</td><td>3</td>" in html and "<b>育才" not in html


def _statements(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_area_cycle_statistics_statements_do_not_grow_with_schools_or_teachers(stats_world):
    """From the stored counts, the city's page, xlsx and API read the same statements for 4 schools of 7
    teachers as for 24 schools of 207 (a query per school or per teacher would show)."""
    urls = ["/verification/cycle/statistics/", "/verification/cycle/statistics/?format=xlsx"]
    city, api = stats_world.client("city_admin"), stats_world.api("city_admin")
    cycles.cycle_counts_refresh()
    few = [_statements(city, url) for url in urls] + [_statements(api, "/api/v1/cycle-statistics/")]
    for i in range(20):
        school = OrganisationFactory(name=f"新校{i:02d}", kind=OrgKind.SCHOOL, parent=stats_world.district_a)
        for _ in range(10):
            TeacherFactory(school=school, first_employment_date=VETERAN)
    cycles.cycle_counts_refresh()
    assert _api_rows(stats_world, "city_admin")["新校07"] == (10, 0, 10)
    many = [_statements(city, url) for url in urls] + [_statements(api, "/api/v1/cycle-statistics/")]
    assert many == few


@pytest.mark.postgres
def test_area_cycle_statistics_read_the_stored_counts_by_the_school_index(stats_world):
    """The stored counts are read through their school index (a unique one: a row per school), not a scan."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cycles.cycle_counts_refresh()
    with CaptureQueriesContext(connection) as ctx:
        assert stats_world.api("district_a_admin").get("/api/v1/cycle-statistics/").status_code == 200
    (sql,) = [q["sql"] for q in ctx.captured_queries if 'FROM "cycles_cycleschoolcount"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    reads = [n for n in nodes(plan[0]["Plan"]) if n.get("Relation Name") == "cycles_cycleschoolcount"]
    assert reads and all(n["Node Type"].startswith("Index") for n in reads), reads
    assert all("school_id" in n.get("Index Cond", "") for n in reads), reads


# --- 5. the cycle demo -----------------------------------------------------------------------------------


def test_seed_demo_builds_a_cycle_deployment(db, settings, capsys):
    settings.CPD_REGIME = "cycle"
    call_command("seed_demo", "--regime", "cycle")
    out = capsys.readouterr().out

    province = Organisation.objects.get(kind=OrgKind.PROVINCE)
    city = Organisation.objects.get(kind=OrgKind.CITY)
    assert city.parent == province and city.path == f"/{province.pk}/{city.pk}/"
    districts = Organisation.objects.filter(parent=city, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT])
    assert districts.count() == 4
    schools = Organisation.objects.filter(kind=OrgKind.SCHOOL)
    assert schools.count() == 5
    assert all(s.path.startswith(city.path) and s.parent in districts for s in schools)
    for username in ("province", "city", "district", "county", "school", "principal", "teacher", "done", "behind", "newteacher"):
        assert username in out
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    assert Role.objects.get(user__username="province").kind == RoleKind.PROVINCE_ADMIN

    done = cycles.progress(Teacher.objects.get(user__username="done"))
    assert done.complete is True
    assert cycles.progress(Teacher.objects.get(user__username="behind")).behind_pace is True
    assert cycles.progress(Teacher.objects.get(user__username="newteacher")).is_new_teacher is True
    assert TrainingProject.objects.get(title="登封市小学骨干教师培训").approval == ApprovalState.PENDING

    # Running it again changes nothing.
    counts = (Organisation.objects.count(), User.objects.count(), Teacher.objects.count(), LedgerEntry.objects.count())
    call_command("seed_demo", "--regime", "cycle")
    assert (Organisation.objects.count(), User.objects.count(), Teacher.objects.count(), LedgerEntry.objects.count()) == counts


def test_seed_demo_refuses_a_cycle_deployment_without_the_cycle_regime(db, settings):
    settings.CPD_REGIME = "annual"
    with pytest.raises(CommandError, match="CPD_REGIME=cycle"):
        call_command("seed_demo", "--regime", "cycle")
    assert not Organisation.objects.exists()


# --- 6. the cycle API (/api/v1/) ------------------------------------------------------------------------


def test_the_api_gives_a_teacher_their_own_cycle_and_progress(world, frozen):
    teacher = veteran(world)
    hours_of(teacher, total=100, school_based=30)
    body = world.api("teacher_a1").get("/api/v1/cycle/").json()
    assert (body["start_date"], body["end_date"]) == ("2024-06-15", "2029-06-15")
    assert (body["total_hours"], body["school_based_hours"]) == ("100.0", "30.0")
    assert (body["required_hours"], body["required_school_based_hours"]) == ("360.0", "80.0")
    assert (body["missing_hours"], body["missing_school_based_hours"]) == ("260.0", "50.0")
    assert body["expected_by_now"] == "143.9" and body["behind_pace"] is True and body["complete"] is False
    assert body["new_teacher"] is None and body["certificates"] == []


def test_the_api_shows_the_new_teacher_requirement_only_while_it_applies(world, frozen):
    teacher = world.teachers["teacher_a1"]
    teacher.first_employment_date = datetime.date(2025, 9, 1)
    teacher.save()
    give(teacher, 36, day=datetime.date(2025, 11, 3), new_teacher=True)
    body = world.api("teacher_a1").get("/api/v1/cycle/").json()
    assert body["new_teacher"] == {"required_hours": "120.0", "hours": "36.0", "deadline": "2026-09-01"}

    hours_of(teacher, total=360, school_based=80)
    assert world.api("teacher_a1").get("/api/v1/cycle/").json()["new_teacher"] is None


@pytest.mark.parametrize("persona", ["school_a1_admin", "principal_a1", "district_a_admin", "city_admin", "provider"])
def test_only_a_teacher_has_a_cycle_in_the_api(world, frozen, persona):
    assert world.api(persona).get("/api/v1/cycle/").status_code == 403
    assert world.api(persona).post("/api/v1/cycle/certificates/").status_code == 403


def test_the_api_issues_the_certificate_once_and_downloads_it_as_pdf(world, frozen):
    teacher = veteran(world)
    api = world.api("teacher_a1")
    refused = api.post("/api/v1/cycle/certificates/")
    assert refused.status_code == 409 and "360" in refused.json()["detail"]
    hours_of(teacher, total=360, school_based=80)
    first = api.post("/api/v1/cycle/certificates/")
    assert first.status_code == 201
    again = api.post("/api/v1/cycle/certificates/")
    assert again.status_code == 200 and again.json()["code"] == first.json()["code"]
    assert CycleCertificate.objects.count() == 1
    pdf = api.get(f"/api/v1/cycle/certificates/{first.json()['code']}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert api.get("/api/v1/cycle/").json()["certificates"][0]["code"] == first.json()["code"]


def test_another_teachers_certificate_is_not_found_in_the_api(world, certificate):
    assert world.api("teacher_a2").get(f"/api/v1/cycle/certificates/{certificate.code}/pdf/").status_code == 404
    assert world.api("teacher_a1").get(f"/api/v1/cycle/certificates/{certificate.code}/pdf/").status_code == 200


@pytest.mark.parametrize("persona", list(SCOPES))
def test_cycle_statistics_in_the_api_show_each_level_its_own_schools(stats_world, persona):
    rows = {
        r["unit"]: (r["teachers"], r["complete"], r["behind"])
        for r in stats_world.api(persona).get("/api/v1/cycle-statistics/").json()["rows"]
    }
    assert rows == {name: EXPECTED[name] for name in SCOPES[persona]}


@pytest.mark.parametrize("persona", ["teacher_a1", "provider"])
def test_teachers_and_providers_get_no_cycle_statistics_in_the_api(world, persona):
    assert world.api(persona).get("/api/v1/cycle-statistics/").status_code == 403
