"""Reviewers' and administrators' homes: to-do counts, each equal to what the linked page shows;
and the "who is behind" view (by district, by school, then the teachers)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from hours.models import Declaration, DeclarationState
from points import services as points_services
from points.models import ExchangeWindow, RequestState
from training.models import Enrolment, EnrolmentState, ExtensionState, RegistrationExtension
from verification.models import ComplaintState, ExportJob, ExportStatus, RunStatus, VerificationRun

from ..hours.projects_kit import make_project
from ..points.conftest import earn
from ..verification.conftest import give
from .conftest import at, policy, result

_n = iter(range(1, 10_000))


def declare(teacher, state, *, year=2026, hours="6", category="professional"):
    return Declaration.objects.create(
        teacher=teacher,
        year=year,
        category=category,
        activity_type="conference",
        title=f"会议{next(_n)}",
        organiser="某会",
        start_date=datetime.date(year, 5, 1),
        end_date=datetime.date(year, 5, 1),
        hours=Decimal(hours),
        state=state,
    )


@pytest.fixture
def busy(world):
    """Work waiting at every level on 2026-06-15."""
    with at(2026, 6, 15):
        policy(2026)
        a1, a2, b1 = world.teachers["teacher_a1"], world.teachers["teacher_a2"], world.teachers["teacher_b1"]
        for _ in range(2):
            declare(a1, DeclarationState.SUBMITTED)
        declare(a2, DeclarationState.SUBMITTED)  # another school: not school_a1's
        declare(a1, DeclarationState.RETURNED)
        declare(a1, DeclarationState.SCHOOL_APPROVED)
        declare(b1, DeclarationState.SCHOOL_APPROVED)  # another district
        ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
        earn(a1, 300)
        points_services.exchange_request(
            role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], category="elective", hours=2
        )
        result(a1, 2025)  # results for last year, no notice yet
        project = make_project(
            world,
            enrolment=True,
            start_date=datetime.date(2026, 7, 1),
            end_date=datetime.date(2026, 7, 2),
            enrolment_start=datetime.date(2026, 6, 1),
            enrolment_end=datetime.date(2026, 6, 30),
        )
        Enrolment.objects.create(project=project, teacher=a1, district=world.district_a, school=a1.school)
        Enrolment.objects.create(
            project=project, teacher=a2, district=world.district_a, school=a2.school, state=EnrolmentState.APPLIED
        )
        VerificationRun.objects.create(year=2025, status=RunStatus.FAILED)
        ExportJob.objects.create(
            kind="stats", organisation=world.city, status=ExportStatus.FAILED, params={"role_id": world.roles["city_admin"].pk}
        )
        RegistrationExtension.objects.create(
            project=project, requested_until=datetime.date(2027, 1, 15), reason="x", state=ExtensionState.PENDING
        )
        provider_project = make_project(
            world, "provider", title="培训机构项目", start_date=datetime.date(2026, 6, 1), end_date=datetime.date(2026, 6, 2)
        )
        give(a1, 2026, public=30, professional=42, elective=18)  # a1 done; a2, b1, c1 short
    return {"project": project, "provider_project": provider_project}


def _count_on_page(key, response, role):
    """What the linked page itself shows for the item."""
    ctx = response.context
    if key in ("review_school", "review_district", "returned"):
        return ctx["total"]
    if key in ("points", "enrolments"):  # keyset pages without a count: this world's few rows fit the first
        assert not ctx["page"].has_next
        return len(ctx["page"])
    if key == "roster":
        return int(ctx["last_confirmation"] is None)
    if key == "notice":
        return int(ctx["notice"] is None and len(ctx["results"]) > 0 and ctx["confirmation"] is None)
    if key == "registration_complaints":
        return sum(1 for c in ctx["complaints"] if c.state == "open")
    if key == "result_complaints":
        return sum(1 for c in ctx["complaints"] if c.state == ComplaintState.OPEN)
    if key in ("late", "settings", "projects_due"):
        return len(ctx["rows"])
    if key == "runs":
        return len({r.year for r in ctx["runs"] if r.status in ("failed", "interrupted")})
    if key == "exports":
        return sum(1 for j in ctx["jobs"] if j.status == "failed")
    if key == "extensions":
        return len(ctx["pending"])
    if key == "confirm_school":
        return int(ctx["notice"] is not None and ctx["confirmation"] is None and not ctx["open_complaints"])
    if key in ("confirm_district", "finalise"):
        return int(ctx["own"] is None and not (ctx["policy"] and ctx["policy"].is_finalised))
    raise AssertionError(f"no page count for {key}")


@pytest.mark.parametrize("persona", ["school_a1_admin", "principal_a1", "district_a_admin", "city_admin", "provider"])
def test_todo_counts_equal_the_counts_of_the_pages_they_link_to(world, busy, persona):
    with at(2026, 6, 15):
        client = world.client(persona)
        items = client.get("/").context["todos"]
        assert items
        for item in items:
            page = client.get(item.url)
            assert page.status_code == 200, item.url
            if item.key in ("confirm_district", "finalise") and item.count == 0:
                continue  # nothing due: the page shows the state, not a count
            assert item.count == _count_on_page(item.key, page, world.roles[persona]), item.key


def test_school_admin_sees_its_waiting_work_and_the_nearest_deadline(world, busy):
    with at(2026, 6, 15):
        response = world.client("school_a1_admin").get("/")
    counts = {i.key: i.count for i in response.context["todos"]}
    assert counts == {"review_school": 2, "returned": 1, "points": 1, "roster": 1, "notice": 1, "registration_complaints": 0}
    html = response.content.decode()
    assert 'data-testid="todo-review_school"' in html
    nearest = response.context["nearest"]
    assert nearest.key == "roster" and nearest.deadline == datetime.date(2026, 6, 15)  # never confirmed: due now


def test_district_and_city_items(world, busy):
    with at(2026, 6, 15):
        district = {i.key: i.count for i in world.client("district_a_admin").get("/").context["todos"]}
        city = {i.key: i.count for i in world.client("city_admin").get("/").context["todos"]}
    assert district["review_district"] == 1 and district["enrolments"] == 0
    assert city["runs"] == 1 and city["exports"] == 1 and city["extensions"] == 1


def test_provider_sees_projects_whose_registration_deadline_approaches(world, busy):
    with at(2026, 12, 10):
        items = {i.key: i for i in world.client("provider").get("/").context["todos"]}
    assert items["projects_due"].count == 1 and items["projects_due"].deadline == datetime.date(2026, 12, 31)
    with at(2026, 6, 15):
        assert {i.key: i.count for i in world.client("provider").get("/").context["todos"]}["projects_due"] == 0


def test_clearing_the_queue_clears_the_item(world, busy):
    from hours import services as hours_services

    with at(2026, 6, 15):
        for d in Declaration.objects.filter(teacher=world.teachers["teacher_a1"], state=DeclarationState.SUBMITTED):
            hours_services.declaration_transition(
                declaration_id=d.pk,
                action="school_approve",
                role=world.roles["school_a1_admin"],
                actor=world.users["school_a1_admin"],
            )
        counts = {i.key: i.count for i in world.client("school_a1_admin").get("/").context["todos"]}
    assert counts["review_school"] == 0


def test_who_is_behind_by_district_then_school_then_teachers(world, busy, django_assert_max_num_queries):
    with at(2026, 6, 15):
        city = world.client("city_admin")
        units = {u.unit.pk: (u.teachers, u.short) for u in city.get("/behind/").context["data"]["units"]}
        assert units[world.district_a.pk] == (2, 1) and units[world.district_b.pk] == (1, 1)
        drill = {u.unit.pk: u.short for u in city.get(f"/behind/?unit={world.district_a.pk}").context["data"]["units"]}
        assert drill == {world.school_a1.pk: 0, world.school_a2.pk: 1}
        teachers = city.get(f"/behind/?unit={world.school_a2.pk}").context["data"]["teachers"]
        assert [t.pk for t in teachers] == [world.teachers["teacher_a2"].pk]
        assert teachers[0].shortfalls["total"] == Decimal("90")
        # a district admin cannot drill into another district
        assert world.client("district_a_admin").get(f"/behind/?unit={world.district_b.pk}").status_code == 404
        assert world.client("teacher_a1").get("/behind/").status_code == 403


def test_behind_is_set_based(world, busy, django_assert_max_num_queries):
    from tests.factories import TeacherFactory

    for _ in range(30):
        TeacherFactory(school=world.school_a2)
    with at(2026, 6, 15):
        client = world.client("city_admin")
        client.get("/behind/")
        with django_assert_max_num_queries(15):
            data = client.get("/behind/").context["data"]
    assert data["short_count"] == 33


def test_behind_areas_read_the_stored_per_school_counts_the_refresh_wrote(world, busy, django_assert_max_num_queries):
    """The area levels sum `BehindCount` once `behind_refresh` has run: the same figures as judging every
    teacher live, said to be as of the refresh, and no longer following the ledger until the next one."""
    from home.behind import behind_refresh
    from home.models import BehindCount
    from tests.factories import TeacherFactory

    for _ in range(30):
        TeacherFactory(school=world.school_a2)
    with at(2026, 6, 15):
        city, district = world.client("city_admin"), world.client("district_a_admin")

        def seen():
            by_district = {u.unit.pk: (u.teachers, u.short) for u in city.get("/behind/").context["data"]["units"]}
            by_school = {u.unit.pk: (u.teachers, u.short) for u in district.get("/behind/").context["data"]["units"]}
            return by_district, by_school

        live = seen()
        assert "behind-computed" not in city.get("/behind/").content.decode()
        assert behind_refresh() == BehindCount.objects.count() > 0
        assert seen() == live
        response = city.get("/behind/")
        assert response.context["data"]["short_count"] == 33
        assert 'data-testid="behind-computed"' in response.content.decode()
        with django_assert_max_num_queries(12):
            city.get("/behind/")
        # a teacher who catches up counts at the next refresh; the school's own list is live at once
        BehindCount.objects.filter(school=world.school_a2).update(short=0)
        assert seen()[1][world.school_a2.pk] == (live[1][world.school_a2.pk][0], 0)
        assert len(world.client("school_a2_admin").get("/behind/").context["data"]["teachers"]) == 31
        behind_refresh()
        assert seen() == live


def test_roster_shows_what_each_teacher_still_misses(world, busy):
    with at(2026, 6, 15):
        response = world.client("school_a2_admin").get("/roster/")
    html = response.content.decode()
    assert "2026年还差学时" in html and 'data-testid="extra-cell">90.0<' in html.replace("90<", "90.0<")


def test_request_state_names_match(world):
    assert RequestState.PENDING == "pending"


def test_enrolment_item_counts_up_to_the_cap_and_names_the_earliest_start(world, busy, monkeypatch):
    """The enrolment to-do's count stops at the queues' cap ("1000+") and its deadline is the earliest start
    among the projects with a waiting enrolment, whichever order they were created in."""
    from home import todos
    from hours import selectors as hours_selectors

    with at(2026, 6, 15):
        a1, a2 = world.teachers["teacher_a1"], world.teachers["teacher_a2"]
        later = busy["project"]  # starts 1 July
        earlier = make_project(
            world, enrolment=True, title="更早的项目", start_date=datetime.date(2026, 6, 20), end_date=datetime.date(2026, 6, 21)
        )
        ignored = make_project(
            world, enrolment=True, title="无人待审", start_date=datetime.date(2026, 6, 16), end_date=datetime.date(2026, 6, 17)
        )
        Enrolment.objects.filter(project=later).update(state=EnrolmentState.PRINCIPAL_APPROVED)
        Enrolment.objects.create(
            project=earlier, teacher=a2, district=world.district_a, school=a2.school, state=EnrolmentState.PRINCIPAL_APPROVED
        )
        Enrolment.objects.create(
            project=ignored, teacher=a1, district=world.district_a, school=a1.school, state=EnrolmentState.APPLIED
        )
        role = world.roles["district_a_admin"]
        item = todos.enrolment_item(role)
        assert (item.count, item.more, item.deadline) == (3, False, datetime.date(2026, 6, 20))
        monkeypatch.setattr(hours_selectors, "QUEUE_COUNT_CAP", 2)
        item = todos.enrolment_item(role)
        assert (item.count, item.more, item.deadline) == (2, True, datetime.date(2026, 6, 20))
        html = world.client("district_a_admin").get("/").content.decode()
        assert 'data-testid="todo-enrolments"' in html and "2+" in html


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.postgres
def test_enrolment_deadline_probes_projects_by_start_and_the_project_state_index(world, busy):
    """The deadline walks projects by start (project_start_idx) and probes each for one waiting enrolment in
    scope, stopping at the first: no join of every waiting enrolment of the scope through its teachers."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from home import todos

    with at(2026, 6, 15):
        Enrolment.objects.update(state=EnrolmentState.PRINCIPAL_APPROVED)
        with CaptureQueriesContext(connection) as ctx:
            item = todos.enrolment_item(world.roles["district_a_admin"])
        assert item.deadline == datetime.date(2026, 7, 1)
    (sql,) = [q["sql"] for q in ctx.captured_queries if 'SELECT "hours_trainingproject"."start_date"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("RESET enable_seqscan")
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    enrolment_reads = [n for n in nodes if n.get("Relation Name") == "hours_enrolment"]
    # every read of the enrolments is an index range (on these few rows the planner may start from the
    # district's teachers; at 200,000 teachers it probes (project, state): docs/scale.md), inside a per-project
    # subplan under the walk of the projects by start
    assert enrolment_reads and all(n.get("Index Cond") for n in enrolment_reads), enrolment_reads
    assert any(n.get("Subplan Name", "").startswith("SubPlan") for n in nodes)
    projects = [n for n in nodes if n.get("Relation Name") == "hours_trainingproject"]
    assert [n.get("Index Name") for n in projects] == ["project_start_idx"]


def _behind_statements(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_a_schools_short_teachers_are_listed_50_a_page_by_name(world, busy):
    """The district drills into a school: 51 short teachers there, by name; the 51st only on the next page,
    the count of all of them; and a page's statements are the same for 1 short teacher as for 51."""
    import re

    from tests.factories import TeacherFactory

    with at(2026, 6, 15):
        district = world.client("district_a_admin")
        url = f"/behind/?unit={world.school_a2.pk}"
        few = _behind_statements(district, url)  # teacher_a2 alone
        for i in range(50):
            TeacherFactory(school=world.school_a2, name=f"张{i:02d}")
        first = district.get(url)
        rows = first.context["data"]["teachers"]
        assert first.context["data"]["short_count"] == len(rows) + 1 and len(rows) == 50
        assert [t.name for t in rows] == sorted(t.name for t in rows)
        html = first.content.decode()
        link = re.search(r'href="\?(unit=\d+&amp;cursor=[^"]+)" data-testid="next-page"', html).group(1).replace("&amp;", "&")
        second = district.get(f"/behind/?{link}")
        (last,) = second.context["data"]["teachers"]
        assert last.pk not in {t.pk for t in rows} and last.name > rows[-1].name
        assert f'data-testid="teacher-{last.pk}"' in second.content.decode()
        assert _behind_statements(district, url) == few
