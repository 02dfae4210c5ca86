"""Role × endpoint matrix: what each persona can see and change (SPEC §1: every query is scoped).

Out-of-scope objects are absent from lists and answer 404 on detail; a role that may not use a
page at all gets 403 whatever the object; a role that may read but not write gets 403 on writes.
"""

from __future__ import annotations

import datetime

import pytest

from accounts.models import RosterImport, RosterImportStatus, Teacher, TeacherEvent, TeacherStatus

PERSONAS = [
    "city_admin",
    "district_a_admin",
    "district_b_admin",
    "city_direct_admin",
    "school_a1_admin",
    "school_a2_admin",
    "school_b1_admin",
    "school_c1_admin",
    "principal_a1",
    "provider",
    "teacher_a1",
    "teacher_a2",
    "teacher_b1",
    "teacher_c1",
]
TEACHERS = ["teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1"]
SCHOOLS = ["school_a1", "school_a2", "school_b1", "school_c1"]

# Teacher records (named by the teacher persona) each persona may see.
VISIBLE_TEACHERS = {
    "city_admin": set(TEACHERS),
    "district_a_admin": {"teacher_a1", "teacher_a2"},
    "district_b_admin": {"teacher_b1"},
    "city_direct_admin": {"teacher_c1"},
    "school_a1_admin": {"teacher_a1"},
    "school_a2_admin": {"teacher_a2"},
    "school_b1_admin": {"teacher_b1"},
    "school_c1_admin": {"teacher_c1"},
    "principal_a1": {"teacher_a1"},
    "provider": set(),
    "teacher_a1": {"teacher_a1"},
    "teacher_a2": {"teacher_a2"},
    "teacher_b1": {"teacher_b1"},
    "teacher_c1": {"teacher_c1"},
}
# Organisations (World attribute names) each persona may see.
ALL_ORGS = {"city", "district_a", "district_b", "city_direct", *SCHOOLS, "provider_org"}
VISIBLE_ORGS = {
    "city_admin": ALL_ORGS,
    "district_a_admin": {"district_a", "school_a1", "school_a2"},
    "district_b_admin": {"district_b", "school_b1"},
    "city_direct_admin": {"city_direct", "school_c1"},
    "school_a1_admin": {"school_a1"},
    "school_a2_admin": {"school_a2"},
    "school_b1_admin": {"school_b1"},
    "school_c1_admin": {"school_c1"},
    "principal_a1": {"school_a1"},
    "provider": {"provider_org"},
    "teacher_a1": {"school_a1"},
    "teacher_a2": {"school_a2"},
    "teacher_b1": {"school_b1"},
    "teacher_c1": {"school_c1"},
}
# Roster imports (one per school, named by school) each persona may see through the API.
VISIBLE_IMPORTS = {
    "city_admin": set(SCHOOLS),
    "district_a_admin": {"school_a1", "school_a2"},
    "district_b_admin": {"school_b1"},
    "city_direct_admin": {"school_c1"},
    "school_a1_admin": {"school_a1"},
    "school_a2_admin": {"school_a2"},
    "school_b1_admin": {"school_b1"},
    "school_c1_admin": {"school_c1"},
    "principal_a1": {"school_a1"},
    "provider": set(),
    "teacher_a1": set(),
    "teacher_a2": set(),
    "teacher_b1": set(),
    "teacher_c1": set(),
}
ROSTER_READERS = {p for p in PERSONAS if p.endswith("_admin") or p.startswith("principal")}
ROSTER_WRITERS = {"school_a1_admin", "school_a2_admin", "school_b1_admin", "school_c1_admin"}
AREA_ADMINS = {"city_admin", "district_a_admin", "district_b_admin", "city_direct_admin"}


@pytest.fixture
def imports(world) -> dict[str, RosterImport]:
    return {
        name: RosterImport.objects.create(
            organisation=getattr(world, name),
            uploaded_by=world.users[f"{name}_admin"],
            original_name=f"{name}.xlsx",
            sha256="0" * 64,
            status=RosterImportStatus.FAILED,
            errors=[{"row": 2, "column": "姓名", "message": "必填项为空"}],
        )
        for name in SCHOOLS
    }


def _expected_detail(persona: str, allowed: set[str], visible: bool) -> int:
    if persona not in allowed:
        return 403
    return 200 if visible else 404


# --- HTML pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_roster_list_shows_only_teachers_in_scope(world, persona):
    response = world.client(persona).get("/roster/")
    if persona not in ROSTER_READERS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    listed = {t.pk for t in response.context["page"].object_list}
    expected = {world.teachers[name].pk for name in VISIBLE_TEACHERS[persona]}
    assert listed == expected
    html = response.content.decode()
    for name in TEACHERS:
        assert (world.teachers[name].name in html) == (name in VISIBLE_TEACHERS[persona])


@pytest.mark.parametrize("suffix", ["", "edit/", "transfer/", "retire/", "leave/"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_teacher_pages_answer_404_out_of_scope_and_403_for_roles_without_access(world, persona, suffix):
    allowed = ROSTER_READERS if suffix == "" else ROSTER_WRITERS
    client = world.client(persona)
    for name in TEACHERS:
        response = client.get(f"/roster/{world.teachers[name].pk}/{suffix}")
        expected = _expected_detail(persona, allowed, name in VISIBLE_TEACHERS[persona])
        assert response.status_code == expected, (persona, suffix, name)


@pytest.mark.parametrize("persona", PERSONAS)
def test_organisation_list_shows_only_organisations_in_scope(world, persona):
    response = world.client(persona).get("/orgs/")
    if persona not in AREA_ADMINS:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    for attr in ALL_ORGS:
        org = getattr(world, attr)
        assert (f'data-testid="count-{org.code}"' in html) == (attr in VISIBLE_ORGS[persona]), attr


@pytest.mark.parametrize("persona", PERSONAS)
def test_roster_import_page_answers_404_for_other_schools_imports(world, imports, persona):
    client = world.client(persona)
    for school, record in imports.items():
        response = client.get(f"/roster/import/{record.pk}/")
        expected = _expected_detail(persona, ROSTER_WRITERS, school in VISIBLE_IMPORTS[persona])
        assert response.status_code == expected, (persona, school)


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_teacher_list_and_detail_follow_scope(world, persona):
    api = world.api(persona)
    response = api.get("/api/v1/teachers/")
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {world.teachers[name].pk for name in VISIBLE_TEACHERS[persona]}
    for name in TEACHERS:
        detail = api.get(f"/api/v1/teachers/{world.teachers[name].pk}/")
        assert detail.status_code == (200 if name in VISIBLE_TEACHERS[persona] else 404), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_organisation_list_and_detail_follow_scope(world, persona):
    api = world.api(persona)
    response = api.get("/api/v1/organisations/")
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {getattr(world, attr).pk for attr in VISIBLE_ORGS[persona]}
    for attr in ALL_ORGS:
        detail = api.get(f"/api/v1/organisations/{getattr(world, attr).pk}/")
        assert detail.status_code == (200 if attr in VISIBLE_ORGS[persona] else 404), attr


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_roster_imports_follow_scope(world, imports, persona):
    api = world.api(persona)
    response = api.get("/api/v1/roster-imports/")
    assert response.status_code == 200
    listed = {row["id"] for row in response.json()["results"]}
    assert listed == {imports[school].pk for school in VISIBLE_IMPORTS[persona]}
    for school, record in imports.items():
        detail = api.get(f"/api/v1/roster-imports/{record.pk}/")
        assert detail.status_code == (200 if school in VISIBLE_IMPORTS[persona] else 404), school


def test_anonymous_user_gets_nothing(world, client):
    teacher = world.teachers["teacher_a1"]
    assert client.get("/roster/").status_code == 302
    assert client.get(f"/roster/{teacher.pk}/").status_code == 302
    from rest_framework.test import APIClient

    api = APIClient()
    assert api.get("/api/v1/teachers/").status_code in (401, 403)
    assert api.get(f"/api/v1/teachers/{teacher.pk}/").status_code in (401, 403)


def test_role_header_naming_someone_elses_role_does_not_widen_scope(world):
    api = world.api("teacher_a1")
    api.credentials(HTTP_X_CPD_ROLE=str(world.roles["city_admin"].pk))
    listed = {row["id"] for row in api.get("/api/v1/teachers/").json()["results"]}
    assert listed == {world.teachers["teacher_a1"].pk}


# --- a teacher's own record ---------------------------------------------------------------------


def test_teacher_cannot_change_another_teachers_record_through_the_api(world):
    other = world.teachers["teacher_a2"]
    response = world.api("teacher_a1").patch(f"/api/v1/teachers/{other.pk}/", {"phone": "13800000000"}, format="json")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.phone == ""


def test_teacher_cannot_change_a_colleague_at_the_same_school(world):
    from tests.factories import TeacherFactory

    colleague = TeacherFactory(school=world.school_a1, phone="")
    response = world.api("teacher_a1").patch(f"/api/v1/teachers/{colleague.pk}/", {"phone": "13800000000"}, format="json")
    assert response.status_code == 404
    colleague.refresh_from_db()
    assert colleague.phone == ""


def test_teacher_can_change_own_phone_through_the_api(world):
    me = world.teachers["teacher_a1"]
    response = world.api("teacher_a1").patch(f"/api/v1/teachers/{me.pk}/", {"phone": "13800000000"}, format="json")
    assert response.status_code == 200
    me.refresh_from_db()
    assert me.phone == "13800000000"


@pytest.mark.parametrize(
    "field,value",
    [
        ("school", "school_b1"),
        ("status", TeacherStatus.RETIRED),
        ("id_number", "110101199003078515"),
        ("name", "改名"),
        ("cpd_number", "X1"),
    ],
)
def test_teacher_cannot_change_own_school_status_or_id_through_the_api(world, field, value):
    me = world.teachers["teacher_a1"]
    before = Teacher.objects.values().get(pk=me.pk)
    if field == "school":
        value = getattr(world, value).pk
    response = world.api("teacher_a1").patch(f"/api/v1/teachers/{me.pk}/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    after = Teacher.objects.values().get(pk=me.pk)
    assert after == before


def test_teacher_posting_extra_fields_to_my_record_changes_only_their_own_fields(world):
    me = world.teachers["teacher_a1"]
    before = Teacher.objects.get(pk=me.pk)
    response = world.client("teacher_a1").post(
        "/me/record/",
        {
            "stage": "junior",
            "subject": "english",
            "title": "senior",
            "post_type": "teacher",
            "first_employment_date": "2011-09-01",
            "phone": "13900000000",
            "email": "me@example.org",
            # A forged form: none of these may change.
            "school": world.school_b1.pk,
            "status": TeacherStatus.RETIRED,
            "id_number": "110101199003078515",
            "name": "改名",
            "cpd_number": "X1",
        },
    )
    assert response.status_code == 302
    after = Teacher.objects.get(pk=me.pk)
    assert (after.stage, after.subject, after.phone) == ("junior", "english", "13900000000")
    assert after.school_id == before.school_id
    assert after.status == TeacherStatus.ACTIVE
    assert after.id_number == before.id_number
    assert after.name == before.name
    assert after.cpd_number == before.cpd_number


def test_teacher_cannot_create_a_teacher(world):
    response = world.api("teacher_a1").post(
        "/api/v1/teachers/", {"name": "新人", "id_number": "110101199003078515"}, format="json"
    )
    assert response.status_code == 403
    assert not Teacher.objects.filter(name="新人").exists()


# --- writes across schools and by read-only roles -----------------------------------------------


def test_school_admin_cannot_retire_or_transfer_another_schools_teacher_through_the_api(world):
    victim = world.teachers["teacher_b1"]
    api = world.api("school_a1_admin")
    assert api.post(f"/api/v1/teachers/{victim.pk}/retire/", {}, format="json").status_code == 404
    assert api.post(f"/api/v1/teachers/{victim.pk}/leave/", {}, format="json").status_code == 404
    response = api.post(f"/api/v1/teachers/{victim.pk}/transfer/", {"to_school": world.school_a1.pk}, format="json")
    assert response.status_code == 404
    assert api.patch(f"/api/v1/teachers/{victim.pk}/", {"phone": "1"}, format="json").status_code == 404
    victim.refresh_from_db()
    assert (victim.status, victim.school_id, victim.phone) == (TeacherStatus.ACTIVE, world.school_b1.pk, "")
    assert not TeacherEvent.objects.filter(teacher=victim).exists()


def test_school_admin_cannot_retire_or_transfer_another_schools_teacher_through_pages(world):
    victim = world.teachers["teacher_b1"]
    client = world.client("school_a1_admin")
    today = datetime.date.today().isoformat()
    assert client.post(f"/roster/{victim.pk}/retire/", {"effective_date": today}).status_code == 404
    assert client.post(f"/roster/{victim.pk}/leave/", {"effective_date": today}).status_code == 404
    response = client.post(f"/roster/{victim.pk}/transfer/", {"to_school": world.school_a2.pk, "effective_date": today})
    assert response.status_code == 404
    assert client.post(f"/roster/{victim.pk}/edit/", {"name": "改名"}).status_code == 404
    assert client.post(f"/roster/{victim.pk}/login/").status_code == 404
    victim.refresh_from_db()
    assert (victim.status, victim.school_id, victim.name) == (TeacherStatus.ACTIVE, world.school_b1.pk, "南华小学老师")
    assert not TeacherEvent.objects.filter(teacher=victim).exists()


def test_principal_reads_the_roster_but_cannot_write(world):
    teacher = world.teachers["teacher_a1"]
    client = world.client("principal_a1")
    assert client.get("/roster/").status_code == 200
    assert client.get(f"/roster/{teacher.pk}/").status_code == 200
    today = datetime.date.today().isoformat()
    assert client.post(f"/roster/{teacher.pk}/retire/", {"effective_date": today}).status_code == 403
    assert client.post(f"/roster/{teacher.pk}/edit/", {"name": "改名"}).status_code == 403
    assert client.get("/roster/add/").status_code == 403
    assert client.get("/roster/import/").status_code == 403

    api = world.api("principal_a1")
    assert api.get(f"/api/v1/teachers/{teacher.pk}/").status_code == 200
    assert api.patch(f"/api/v1/teachers/{teacher.pk}/", {"phone": "1"}, format="json").status_code == 403
    assert api.post(f"/api/v1/teachers/{teacher.pk}/retire/", {}, format="json").status_code == 403
    response = api.post("/api/v1/teachers/", {"name": "新人", "id_number": "110101199003078515"}, format="json")
    assert response.status_code == 403
    teacher.refresh_from_db()
    assert (teacher.status, teacher.name, teacher.phone) == (TeacherStatus.ACTIVE, "育才小学老师", "")
    assert not Teacher.objects.filter(name="新人").exists()


def test_district_admin_cannot_write_teacher_records(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("district_a_admin")
    assert api.post(f"/api/v1/teachers/{teacher.pk}/retire/", {}, format="json").status_code == 403
    assert api.patch(f"/api/v1/teachers/{teacher.pk}/", {"phone": "1"}, format="json").status_code == 403
    teacher.refresh_from_db()
    assert (teacher.status, teacher.phone) == (TeacherStatus.ACTIVE, "")


def test_school_admin_cannot_create_a_teacher_at_another_school(world):
    response = world.api("school_a1_admin").post(
        "/api/v1/teachers/",
        {"name": "新人", "id_number": "110101199003078515", "school": world.school_b1.pk},
        format="json",
    )
    assert response.status_code == 404
    assert not Teacher.objects.filter(name="新人").exists()


def test_district_admin_sees_only_their_districts_schools_in_the_roster_filter(world):
    response = world.client("district_a_admin").get("/roster/")
    choices = set(response.context["form"].fields["school"].queryset)
    assert choices == {world.school_a1, world.school_a2}
    # Filtering by a school of another district is refused by the form, not answered with its teachers.
    response = world.client("district_a_admin").get("/roster/", {"school": world.school_b1.pk})
    assert world.teachers["teacher_b1"].name not in response.content.decode()
