"""Organisations: teacher counts, roster confirmations and overdue schools, city-admin upkeep (SPEC §1–2)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Organisation, OrgKind, RosterConfirmation, TeacherStatus
from tests.factories import TeacherFactory


def _counts(html: str) -> dict[str, int]:
    return {code: int(n) for code, n in re.findall(r'data-testid="count-([^"]+)">(\d+)<', html)}


@pytest.fixture
def staffed(world):
    """school_a1: 3 active (incl. the persona) + 1 retired; every other school: its persona teacher."""
    TeacherFactory.create_batch(2, school=world.school_a1)
    TeacherFactory(school=world.school_a1, status=TeacherStatus.RETIRED)
    TeacherFactory(school=world.school_b1, status=TeacherStatus.LEFT)
    return world


def test_city_admin_sees_active_teacher_totals_for_every_level(staffed):
    w = staffed
    counts = _counts(w.client("city_admin").get("/orgs/").content.decode())
    assert counts == {
        "4401": 6,
        "440104": 4,
        "A1": 3,
        "A2": 1,
        "440105": 1,
        "B1": 1,
        "440100": 1,
        "C1": 1,
        "P1": 0,
    }


def test_district_admin_sees_totals_for_their_district_only(staffed):
    counts = _counts(staffed.client("district_a_admin").get("/orgs/").content.decode())
    assert counts == {"440104": 4, "A1": 3, "A2": 1}


def test_api_organisations_carry_the_same_subtree_totals(staffed):
    rows = staffed.api("city_admin").get("/api/v1/organisations/").json()["results"]
    by_code = {row["code"]: row["teacher_count"] for row in rows}
    assert (by_code["4401"], by_code["440104"], by_code["A1"], by_code["B1"]) == (6, 4, 3, 1)


def test_the_organisation_list_is_paged_in_tree_order_listing_each_once(staffed):
    w = staffed
    for i in range(60):  # 60 more schools: two pages of 50 after the tree's first rows
        Organisation.objects.create(name=f"新校{i}", code=f"N{i:02d}", kind=OrgKind.SCHOOL, parent=w.district_b)
    client = w.client("city_admin")
    seen, url = [], "/orgs/"
    while url:
        response = client.get(url)
        page = response.context["page"]
        assert len(page) <= 50
        seen += [o.pk for o in page]
        url = f"/orgs/?cursor={page.next_cursor}" if page.has_next else None
    in_scope = list(Organisation.objects.filter(path__startswith=w.city.path).order_by("path", "pk").values_list("pk", flat=True))
    assert seen == in_scope  # every organisation once, parents before their schools


def test_the_overdue_filter_pages_only_overdue_schools(world):
    _confirm(world.school_a1, days_ago=30)
    html = world.client("city_admin").get("/orgs/", {"overdue": "1"}).content.decode()
    codes = set(re.findall(r'data-testid="count-([^"]+)"', html))
    assert codes == {"A2", "B1", "C1"}  # no area, no school confirmed within six months


@pytest.mark.postgres
def test_a_large_area_shows_the_stored_count_and_says_it_is_one(staffed, monkeypatch):
    from cpd import pagination
    from verification.models import AreaYearStats
    from verification.services import statistics_refresh

    w = staffed
    statistics_refresh(year=timezone.localdate().year)
    stored = AreaYearStats.objects.get(organisation=w.district_a, year=timezone.localdate().year)
    assert stored.teachers == 4
    TeacherFactory(school=w.school_a1)  # arrives after the refresh
    monkeypatch.setattr(pagination, "EXACT_COUNT_BELOW", 3)  # district a (4 stored) counts as large here
    html = w.client("city_admin").get("/orgs/").content.decode()
    assert re.search(r'data-testid="count-440104" data-estimated="1"[^>]*>约 4<', html)  # stored, said so
    assert 'data-testid="counts-estimated"' in html
    assert _counts(html)["A1"] == 4  # a school is counted exactly, the new teacher included
    assert _counts(html)["440105"] == 1  # a small district too
    rows = w.api("city_admin").get("/api/v1/organisations/").json()["results"]
    by_code = {r["code"]: r for r in rows}
    assert (by_code["440104"]["teacher_count"], by_code["440104"]["teacher_count_is_estimate"]) == (4, True)
    assert by_code["440104"]["teacher_count_as_of"]
    assert (by_code["A1"]["teacher_count"], by_code["A1"]["teacher_count_is_estimate"]) == (4, False)


# --- roster confirmations ----------------------------------------------------------------------


def _confirm(school, days_ago: int) -> RosterConfirmation:
    return RosterConfirmation.objects.create(school=school, confirmed_at=timezone.now() - datetime.timedelta(days=days_ago))


def test_district_admin_sees_schools_that_have_not_confirmed_in_six_months(world):
    _confirm(world.school_a1, days_ago=30)
    _confirm(world.school_a2, days_ago=200)
    _confirm(world.school_a2, days_ago=400)
    client = world.client("district_a_admin")

    html = client.get("/orgs/", {"overdue": "1"}).content.decode()
    assert "东山中学" in html  # a2: last confirmed 200 days ago
    assert "育才小学" not in html  # a1: 30 days ago
    assert "南华小学" not in html  # another district

    workspace = client.get("/")
    assert [s.pk for s in workspace.context["overdue_schools"]] == [world.school_a2.pk]
    assert workspace.context["overdue_count"] == 1


def test_a_school_that_never_confirmed_is_overdue(world):
    _confirm(world.school_a1, days_ago=1)
    workspace = world.client("district_a_admin").get("/")
    assert [s.pk for s in workspace.context["overdue_schools"]] == [world.school_a2.pk]


def test_the_city_home_finds_overdue_schools_without_grouping_every_schools_confirmations(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _confirm(world.school_a1, days_ago=30)
    _confirm(world.school_a2, days_ago=200)
    _confirm(world.school_a2, days_ago=10)  # confirmed again since: not overdue
    _confirm(world.school_b1, days_ago=400)
    client = world.client("city_admin")
    client.get("/")
    with CaptureQueriesContext(connection) as ctx:
        home = client.get("/")
    assert {s.pk for s in home.context["overdue_schools"]} == {world.school_b1.pk, world.school_c1.pk}
    assert home.context["overdue_count"] == 2
    b1 = next(s for s in home.context["overdue_schools"] if s.pk == world.school_b1.pk)
    assert (timezone.now() - b1.last_confirmed).days == 400
    grouped = [q["sql"] for q in ctx.captured_queries if "accounts_rosterconfirmation" in q["sql"] and "GROUP BY" in q["sql"]]
    assert not grouped, grouped


def test_confirmation_becomes_overdue_after_183_days(world):
    _confirm(world.school_a1, days_ago=0)
    _confirm(world.school_a2, days_ago=0)
    # Log in inside each jump: a session from half a year ago has expired.
    with time_machine.travel(timezone.now() + datetime.timedelta(days=182)):
        assert world.client("district_a_admin").get("/").context["overdue_count"] == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=184)):
        overdue = world.client("district_a_admin").get("/").context["overdue_schools"]
        assert {s.pk for s in overdue} == {world.school_a1.pk, world.school_a2.pk}


def test_school_admin_confirms_the_roster(staffed):
    w = staffed
    _confirm(w.school_a1, days_ago=300)
    response = w.client("school_a1_admin").post("/roster/confirm/")
    assert response.status_code == 302
    latest = RosterConfirmation.objects.filter(school=w.school_a1).latest()
    assert latest.confirmed_by == w.users["school_a1_admin"]
    assert latest.active_teachers == 3
    assert timezone.now() - latest.confirmed_at < datetime.timedelta(minutes=1)
    # The district no longer sees the school as overdue.
    overdue = w.client("district_a_admin").get("/").context["overdue_schools"]
    assert w.school_a1.pk not in {s.pk for s in overdue}
    # ... and the roster page shows when it was confirmed.
    page = w.client("school_a1_admin").get("/roster/").content.decode()
    assert timezone.localtime(latest.confirmed_at).strftime("%Y-%m-%d %H:%M") in page


def test_principal_may_confirm_the_roster(world):
    assert world.client("principal_a1").post("/roster/confirm/").status_code == 302
    assert RosterConfirmation.objects.filter(school=world.school_a1).count() == 1


@pytest.mark.parametrize("persona", ["district_a_admin", "city_admin", "teacher_a1"])
def test_others_cannot_confirm_a_roster(world, persona):
    assert world.client(persona).post("/roster/confirm/").status_code == 403
    assert not RosterConfirmation.objects.exists()


def test_confirming_needs_a_post(world):
    assert world.client("school_a1_admin").get("/roster/confirm/").status_code == 405
    assert not RosterConfirmation.objects.exists()


# --- the city admin keeps the tree ---------------------------------------------------------------


def test_city_admin_creates_a_district_in_the_browser(world):
    response = world.client("city_admin").post(
        "/orgs/add/", {"name": "天河区", "code": "440106", "kind": "district", "parent": world.city.pk, "is_active": "on"}
    )
    assert response.status_code == 302
    district = Organisation.objects.get(code="440106")
    assert (district.kind, district.parent, district.is_active) == (OrgKind.DISTRICT, world.city, True)
    assert district.path == f"{world.city.path}{district.pk}/"
    assert "天河区" in world.client("city_admin").get("/orgs/").content.decode()


def test_city_admin_creates_a_school_under_the_city_direct_unit_through_the_api(world):
    response = world.api("city_admin").post(
        "/api/v1/organisations/",
        {"name": "市二中", "code": "C2", "kind": "school", "parent": world.city_direct.pk},
        format="json",
    )
    assert response.status_code == 201
    school = Organisation.objects.get(code="C2")
    assert (school.kind, school.parent) == (OrgKind.SCHOOL, world.city_direct)
    # The city-direct unit's reviewer sees it; a district does not.
    assert world.api("city_direct_admin").get(f"/api/v1/organisations/{school.pk}/").status_code == 200
    assert world.api("district_a_admin").get(f"/api/v1/organisations/{school.pk}/").status_code == 404


def test_city_admin_creates_a_school_under_the_city_direct_unit_in_the_browser(world):
    response = world.client("city_admin").post(
        "/orgs/add/", {"name": "市三中", "code": "C3", "kind": "school", "parent": world.city_direct.pk, "is_active": "on"}
    )
    assert response.status_code == 302
    assert Organisation.objects.get(code="C3").parent == world.city_direct


def test_a_school_cannot_hang_directly_under_the_city(world):
    response = world.api("city_admin").post(
        "/api/v1/organisations/", {"name": "错挂学校", "code": "X1", "kind": "school", "parent": world.city.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    page = world.client("city_admin").post(
        "/orgs/add/", {"name": "错挂学校", "code": "X1", "kind": "school", "parent": world.city.pk, "is_active": "on"}
    )
    assert page.status_code == 200
    assert not Organisation.objects.filter(code="X1").exists()


def test_duplicate_organisation_code_is_refused(world):
    response = world.api("city_admin").post(
        "/api/v1/organisations/", {"name": "重复", "code": "A1", "kind": "school", "parent": world.district_a.pk}, format="json"
    )
    assert response.status_code == 400
    assert Organisation.objects.filter(code="A1").count() == 1


def test_city_admin_renames_a_school_in_the_browser(world):
    response = world.client("city_admin").post(
        f"/orgs/{world.school_a1.pk}/edit/",
        {"name": "育才实验小学", "code": "A1", "parent": world.district_a.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    world.school_a1.refresh_from_db()
    assert (world.school_a1.name, world.school_a1.kind, world.school_a1.is_active) == ("育才实验小学", OrgKind.SCHOOL, True)


def test_city_admin_moves_a_school_to_another_district_and_visibility_follows(world):
    response = world.api("city_admin").patch(
        f"/api/v1/organisations/{world.school_a2.pk}/", {"parent": world.district_b.pk, "name": "东山中学（海珠）"}, format="json"
    )
    assert response.status_code == 200
    world.school_a2.refresh_from_db()
    assert (world.school_a2.parent, world.school_a2.name) == (world.district_b, "东山中学（海珠）")
    teacher = world.teachers["teacher_a2"]
    assert world.api("district_b_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 200
    assert world.api("district_a_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 404


def test_city_admin_deactivates_a_school_through_the_api(world):
    response = world.api("city_admin").patch(f"/api/v1/organisations/{world.school_b1.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    world.school_b1.refresh_from_db()
    assert world.school_b1.is_active is False


def test_a_district_cannot_be_moved(world):
    response = world.api("city_admin").patch(
        f"/api/v1/organisations/{world.district_a.pk}/", {"parent": world.city_direct.pk}, format="json"
    )
    assert response.status_code == 400
    world.district_a.refresh_from_db()
    assert world.district_a.parent == world.city


def test_district_admin_cannot_create_or_edit_organisations(world):
    client = world.client("district_a_admin")
    assert client.get("/orgs/add/").status_code == 403
    response = client.post(
        "/orgs/add/", {"name": "新学校", "code": "A9", "kind": "school", "parent": world.district_a.pk, "is_active": "on"}
    )
    assert response.status_code == 403
    response = client.post(
        f"/orgs/{world.school_a1.pk}/edit/", {"name": "改名", "code": "A1", "parent": world.district_a.pk, "is_active": "on"}
    )
    assert response.status_code == 403

    api = world.api("district_a_admin")
    response = api.post(
        "/api/v1/organisations/", {"name": "新学校", "code": "A9", "kind": "school", "parent": world.district_a.pk}, format="json"
    )
    assert response.status_code == 403
    assert api.patch(f"/api/v1/organisations/{world.school_a1.pk}/", {"name": "改名"}, format="json").status_code == 403
    assert not Organisation.objects.filter(code="A9").exists()
    world.school_a1.refresh_from_db()
    assert world.school_a1.name == "育才小学"


@pytest.mark.parametrize("persona", ["school_a1_admin", "teacher_a1"])
def test_school_roles_cannot_create_or_edit_organisations(world, persona):
    api = world.api(persona)
    response = api.post(
        "/api/v1/organisations/", {"name": "新学校", "code": "A9", "kind": "school", "parent": world.district_a.pk}, format="json"
    )
    assert response.status_code in (403, 404)
    assert api.patch(f"/api/v1/organisations/{world.school_a1.pk}/", {"name": "改名"}, format="json").status_code == 403
    assert not Organisation.objects.filter(code="A9").exists()
    world.school_a1.refresh_from_db()
    assert world.school_a1.name == "育才小学"


@pytest.mark.postgres
@pytest.mark.parametrize("url", ["/orgs/", "/orgs/?overdue=1", "/api/v1/organisations/"])
def test_a_page_of_organisations_is_read_from_the_path_index_in_order(staffed, url):
    """A full sort of a city's 15,000 organisations per page is what the path index spares: with an explicit
    sort priced out the page query walks the index (an incremental sort of ties on the path at most)."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # A city big enough that the planner prices reading every organisation above walking the index.
    Organisation.objects.bulk_create(
        Organisation(
            name=f"校{i}",
            code=f"S{i:04d}",
            kind=OrgKind.SCHOOL,
            parent=staffed.district_b,
            path=f"{staffed.district_b.path}{90000 + i}/",
        )
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_organisation")
    client = staffed.api("city_admin") if url.startswith("/api/") else staffed.client("city_admin")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    page_sql = next(
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT "accounts_organisation"."id"') and " LIMIT " in q["sql"] and "ORDER BY" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {page_sql}")
        plan = cursor.fetchone()[0]
        cursor.execute("RESET enable_sort")
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def nodes(n):
        yield n
        for child in n.get("Plans", []):
            yield from nodes(child)

    top = [n for n in nodes(plan[0]["Plan"]) if n.get("Parent Relationship") != "SubPlan"]
    outer = [n for n in top if n["Node Type"] == "Sort" and "path" in " ".join(n.get("Sort Key", []))]
    assert not outer, top
    assert any(n.get("Relation Name") == "accounts_organisation" and "Index" in n["Node Type"] for n in top), top
