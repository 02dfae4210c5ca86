"""An enrolment is seen by its teacher's current school and that school's areas (SPEC §8), read from the
enrolment's own copy of the school (`Enrolment.school`, training 0004). The copy must equal the teacher's
school after enrolling, after a transfer, after any write of the teacher's school, and when the school moves
to another district; the district home's capped count reads it by index, and the home's statements do not
grow with the enrolments."""

from __future__ import annotations

import importlib
import json

import pytest
import time_machine
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from accounts import services as account_services
from accounts.models import Organisation, OrgKind, Teacher
from accounts.selectors import scope_by_teacher
from home import todos
from training import projects
from training.models import Enrolment, EnrolmentState, TrainingProject

from .projects_kit import at, make_project

PERSONAS = [
    "teacher_a1",
    "teacher_b1",
    "school_a1_admin",
    "school_a2_admin",
    "school_b1_admin",
    "principal_a1",
    "district_a_admin",
    "district_b_admin",
    "city_admin",
]


@pytest.fixture
def enrolled(world):
    """teacher_a1 (育才小学, 越秀区) and teacher_b1 (南华小学, 海珠区) enrolled in a city project, 10 February 2026
    (inside the window); teacher_a1's enrolment approved by the principal, waiting for the district."""
    with time_machine.travel(at(2026, 2, 10), tick=False):
        world.project = make_project(world, enrolment=True)
        for persona in ("teacher_a1", "teacher_b1"):
            assert world.api(persona).post(f"/api/v1/projects/{world.project.pk}/enrol/").status_code == 201
        world.enrolment = Enrolment.objects.get(teacher=world.teachers["teacher_a1"])
        projects.enrolment_transition(
            enrolment_id=world.enrolment.pk,
            action="principal_approve",
            role=world.roles["principal_a1"],
            actor=world.users["principal_a1"],
        )
        yield world


def _visible(world, persona):
    return set(projects.enrolments_visible_to(world.roles[persona]).values_list("pk", flat=True))


def _visible_through_teachers(world, persona):
    """The scope as it was read before the copy: through the teacher's school."""
    qs = scope_by_teacher(Enrolment.objects.all(), world.roles[persona], teacher="teacher", school="teacher__school")
    return set(qs.values_list("pk", flat=True))


def _assert_scope_as_through_teachers(world):
    for e in Enrolment.objects.select_related("teacher"):
        assert e.school_id == e.teacher.school_id, e
    for persona in PERSONAS:
        assert _visible(world, persona) == _visible_through_teachers(world, persona), persona


def _district_waiting(world, persona):
    return todos.enrolment_item(world.roles[persona]).count


def test_an_enrolment_is_scoped_by_its_teachers_school(enrolled):
    world = enrolled
    assert world.enrolment.school == world.school_a1
    assert _visible(world, "principal_a1") == {world.enrolment.pk}
    assert world.enrolment.pk in _visible(world, "district_a_admin")
    assert world.enrolment.pk not in _visible(world, "district_b_admin")
    _assert_scope_as_through_teachers(world)
    assert (_district_waiting(world, "district_a_admin"), _district_waiting(world, "district_b_admin")) == (1, 0)


def test_a_transfer_moves_the_enrolment_to_the_new_school(enrolled):
    """育才小学 transfers teacher_a1 to 南华小学 (海珠区): the waiting enrolment is now 海珠区's to review, on its
    home and its list; 越秀区 no longer sees it. The enrolment's quota district stays the one it enrolled in."""
    world = enrolled
    account_services.teacher_transfer(
        role=world.roles["school_a1_admin"],
        teacher=world.teachers["teacher_a1"],
        to_school=world.school_b1,
        actor=world.users["school_a1_admin"],
    )
    world.enrolment.refresh_from_db()
    assert (world.enrolment.school, world.enrolment.district) == (world.school_b1, world.district_a)
    _assert_scope_as_through_teachers(world)
    assert (_district_waiting(world, "district_a_admin"), _district_waiting(world, "district_b_admin")) == (0, 1)
    page_b = world.client("district_b_admin").get("/hours/enrolments/").content.decode()
    page_a = world.client("district_a_admin").get("/hours/enrolments/").content.decode()
    name = world.teachers["teacher_a1"].name
    assert name in page_b and name not in page_a
    api_b = world.api("district_b_admin").get("/api/v1/enrolments/").json()["results"]
    assert world.enrolment.pk in [e["id"] for e in api_b]


def test_any_write_of_a_teachers_school_carries_their_enrolments(enrolled):
    """The copy is kept by the database (a trigger on the teacher's school), not by one code path: an update
    that bypasses the services (a data fix, the shell) moves it too."""
    world = enrolled
    Teacher.objects.filter(pk=world.teachers["teacher_a1"].pk).update(school=world.school_a2)
    world.enrolment.refresh_from_db()
    assert world.enrolment.school == world.school_a2
    assert world.enrolment.pk in _visible(world, "school_a2_admin")
    _assert_scope_as_through_teachers(world)


def test_saving_a_teacher_who_stays_leaves_their_enrolments_alone(enrolled):
    world = enrolled
    before = Enrolment.objects.get(pk=world.enrolment.pk).updated_at
    account_services.teacher_update(
        role=world.roles["school_a1_admin"],
        teacher=world.teachers["teacher_a1"],
        data={"phone": "13800000000"},
        actor=world.users["school_a1_admin"],
    )
    after = Enrolment.objects.get(pk=world.enrolment.pk)
    assert (after.school, after.updated_at) == (world.school_a1, before)


def test_a_school_moved_to_another_district_takes_its_enrolments(enrolled):
    world = enrolled
    account_services.organisation_update(
        role=world.roles["city_admin"], organisation=world.school_a1, data={"parent": world.district_b}
    )
    assert world.enrolment.pk not in _visible(world, "district_a_admin")
    assert world.enrolment.pk in _visible(world, "district_b_admin")
    _assert_scope_as_through_teachers(world)
    assert (_district_waiting(world, "district_a_admin"), _district_waiting(world, "district_b_admin")) == (0, 1)


def test_enrolling_again_after_a_transfer_is_the_new_schools(enrolled):
    """Withdrawn at 育才小学, transferred, enrolled again: the principal of 南华小学 has it in the queue."""
    world = enrolled
    with time_machine.travel(at(2026, 2, 11), tick=False):
        teacher_b1_enrolment = Enrolment.objects.get(teacher=world.teachers["teacher_b1"])
        assert world.api("teacher_a1").post(f"/api/v1/enrolments/{world.enrolment.pk}/withdraw/").status_code == 200
        account_services.teacher_transfer(
            role=world.roles["school_a1_admin"],
            teacher=world.teachers["teacher_a1"],
            to_school=world.school_b1,
            actor=world.users["school_a1_admin"],
        )
        assert world.api("teacher_a1").post(f"/api/v1/projects/{world.project.pk}/enrol/").status_code == 201
    world.enrolment.refresh_from_db()
    assert (world.enrolment.state, world.enrolment.school) == (EnrolmentState.APPLIED, world.school_b1)
    assert _visible(world, "school_b1_admin") == {world.enrolment.pk, teacher_b1_enrolment.pk}
    _assert_scope_as_through_teachers(world)


def test_a_transition_keeps_the_school_a_transfer_wrote_meanwhile(enrolled):
    """A transition writes only what it changes: an enrolment read before the teacher's transfer and approved
    after it does not put the old school back."""
    world = enrolled
    stale = Enrolment.objects.get(pk=world.enrolment.pk)
    Teacher.objects.filter(pk=world.teachers["teacher_a1"].pk).update(school=world.school_b1)
    projects._enrolment_do(stale, "district_approve", world.users["district_b_admin"], "")
    world.enrolment.refresh_from_db()
    assert (world.enrolment.state, world.enrolment.school) == (EnrolmentState.DISTRICT_APPROVED, world.school_b1)


def test_the_migration_backfills_the_school_from_the_teacher(enrolled):
    world = enrolled
    Enrolment.objects.filter(pk=world.enrolment.pk).update(school=world.school_b1)  # as if unset
    migration = importlib.import_module("training.migrations.0004_enrolment_school")

    class Editor:
        def __init__(self):
            self.connection = connection

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.backfill(None, Editor())
    world.enrolment.refresh_from_db()
    assert world.enrolment.school == world.school_a1


def _home_statements(world, persona):
    client = world.client(persona)
    client.get("/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return ctx.captured_queries


def _more_waiting(world, n):
    """n more teachers of 育才小学 enrolled and waiting for the district, straight into the table."""
    from tests.factories import TeacherFactory

    teachers = [TeacherFactory(school=world.school_a1) for _ in range(n)]
    Enrolment.objects.bulk_create(
        Enrolment(
            project=world.project, teacher=t, district=world.district_a, school=t.school, state=EnrolmentState.PRINCIPAL_APPROVED
        )
        for t in teachers
    )


def test_the_area_homes_statements_do_not_grow_with_enrolments(enrolled):
    """2 waiting enrolments or 200: the same statements on the district's, the city's and the principal's homes."""
    world = enrolled
    with time_machine.travel(at(2026, 2, 10), tick=False):
        _more_waiting(world, 1)
        few = {p: len(_home_statements(world, p)) for p in ("district_a_admin", "city_admin", "principal_a1")}
        assert _district_waiting(world, "district_a_admin") == 2
        _more_waiting(world, 198)
        assert _district_waiting(world, "district_a_admin") == 200
        assert {p: len(_home_statements(world, p)) for p in few} == few


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _index_reads(node):
    """(index, condition) of each index that a scan of a table reads (a bitmap scan's through its children)."""
    if node["Node Type"] == "Bitmap Heap Scan":
        return [(n.get("Index Name"), n.get("Index Cond")) for n in _nodes(node) if n["Node Type"] == "Bitmap Index Scan"]
    return [(node["Index Name"], node.get("Index Cond"))] if node.get("Index Name") else []


@pytest.mark.postgres
def test_the_district_to_do_counts_its_waiting_enrolments_by_the_school_index(enrolled):
    """With sequential scans priced out, the to-do's capped count reads the enrolments through
    `enrolment_school_state_idx` (one range per school of the district, school and state in the condition),
    and never the teachers."""
    from tests.factories import TeacherFactory

    world = enrolled
    # the rest of the city's waiting enrolments: 2,000 at 40 schools of 海珠区 (5 teachers each, in 10 projects),
    # which 越秀区's count must not read
    schools = [
        Organisation.objects.create(name=f"海珠{i}校", code=f"B{i + 10}", kind=OrgKind.SCHOOL, parent=world.district_b)
        for i in range(40)
    ]
    others = [TeacherFactory(school=school) for school in schools for _ in range(5)]
    extra = TrainingProject.objects.bulk_create(
        TrainingProject(
            **{**model_to_dict(world.project, exclude=["id", "organiser", "created_by"]), "organiser": world.project.organiser}
        )
        for _ in range(9)
    )
    Enrolment.objects.bulk_create(
        Enrolment(project=p, teacher=t, district=world.district_b, school=t.school, state=EnrolmentState.PRINCIPAL_APPROVED)
        for p in [world.project, *extra]
        for t in others
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE hours_enrolment")
        cursor.execute("ANALYZE accounts_organisation")
    with CaptureQueriesContext(connection) as ctx:
        item = todos.enrolment_item(world.roles["district_a_admin"])
    assert item.count == 1
    (sql,) = [q["sql"] for q in ctx.captured_queries if "SELECT COUNT(*)" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = list(_nodes(plan[0]["Plan"]))
    assert "accounts_teacher" not in {n.get("Relation Name") for n in nodes}, sql
    reads = [r for n in nodes if n.get("Relation Name") == "hours_enrolment" for r in _index_reads(n)]
    assert reads and all(name == "enrolment_school_state_idx" for name, _cond in reads), reads
    assert all("school_id" in cond and "state" in cond for _name, cond in reads), reads
