"""A declaration's school and district (`Declaration.school`, `.district`) are always its teacher's current school
and that school's district, whichever way the teacher, the school or the declaration got there: declared in the browser or through the
API, a transfer (browser and API), a school moved to another district (organisation page, API, Django admin),
a roster import. The review queues it feeds list exactly the declarations the scope rule
(`declarations_visible_to`) gives each reviewer, and count them the same."""

from __future__ import annotations

import datetime
import importlib
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts import services as accounts_services
from accounts.models import Organisation, Role, RoleKind, Teacher
from hours import selectors, services
from hours.models import Declaration

from ..accounts.test_roster_import import dry_run, teacher_row
from ..factories import TeacherFactory, UserFactory
from .conftest import declaration_payload, declare, pdf

STATES = ("draft", "submitted", "school_approved", "approved", "returned", "rejected")


def _save(role, actor, certificate_number):
    """A new declaration saved (a draft) through the service the browser and the API call."""
    data = declaration_payload(certificate_number=certificate_number)
    data["start_date"] = datetime.date.fromisoformat(data["start_date"])
    data["end_date"] = datetime.date.fromisoformat(data["end_date"])
    data["hours"] = Decimal(data["hours"])
    return services.declaration_save(role=role, actor=actor, data=data, files=[("certificate", pdf())])


def _districts_right():
    """Every declaration's stored school and district against its teacher's school and that school's parent:
    the rows that differ."""
    return [
        (d.pk, d.school_id, d.district_id, d.teacher.school_id, d.teacher.school.parent_id)
        for d in Declaration.objects.select_related("teacher__school")
        if (d.school_id, d.district_id) != (d.teacher.school_id, d.teacher.school.parent_id)
    ]


def _everyone_declared(world):
    for persona in ("teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1"):
        for state in STATES:
            declare(world, persona, state=state)


def _scope_rule_queue(role, level):
    """The queue as the scope rule defines it (what the queue read before the district column)."""
    if selectors.review_level(role) != level:
        return []
    qs = selectors.declarations_visible_to(role).filter(state=selectors.QUEUE_STATE[level])
    return list(qs.order_by("submitted_at", "pk").values_list("pk", flat=True))


def _queues_match_the_scope_rule(world):
    for persona, role in world.roles.items():
        for level in ("school", "district"):
            expected = _scope_rule_queue(role, level)
            assert list(selectors.review_queue(role, level).values_list("pk", flat=True)) == expected, (persona, level)
            counts = selectors.queue_counts(role, level)
            assert sum(counts.values()) == len(expected), (persona, level, counts)


def test_a_declaration_made_in_the_browser_or_the_api_carries_its_schools_district(world, in_year, private_media):
    browser = world.client("teacher_a1").post(
        "/hours/declarations/new/", {**declaration_payload(certificate_number="WEB-1"), "certificate": pdf()}
    )
    assert browser.status_code == 302, browser.content.decode()[:500]
    api = world.api("teacher_c1").post(
        "/api/v1/declarations/", {**declaration_payload(certificate_number="API-1"), "certificate": [pdf()]}, format="multipart"
    )
    assert api.status_code == 201, api.json()
    web, api = Declaration.objects.get(certificate_number="WEB-1"), Declaration.objects.get(certificate_number="API-1")
    assert (web.school_id, web.district_id) == (world.school_a1.pk, world.district_a.pk)
    assert (api.school_id, api.district_id) == (world.school_c1.pk, world.city_direct.pk)


def test_a_declaration_saved_without_a_district_takes_its_teachers(world):
    teacher = Teacher.objects.get(pk=world.teachers["teacher_b1"].pk)  # its school not loaded yet
    decl = Declaration.objects.create(
        teacher=teacher,
        year=2026,
        category="elective",
        activity_type="remote",
        title="校本研修",
        organiser="区教研室",
        start_date="2026-03-02",
        end_date="2026-03-02",
        hours=6,
    )
    stored = Declaration.objects.get(pk=decl.pk)
    assert (stored.school_id, stored.district_id) == (world.school_b1.pk, world.district_b.pk)


@pytest.mark.parametrize("way", ["browser", "api"])
def test_a_transfer_takes_every_declaration_of_the_teacher_to_the_new_district(world, in_year, private_media, way):
    _everyone_declared(world)
    teacher = world.teachers["teacher_a1"]
    waiting = declare(world, "teacher_a1", state="school_approved")
    submitted = declare(world, "teacher_a1", state="submitted")
    stay = set(Declaration.objects.exclude(teacher=teacher).values_list("pk", "district_id"))
    if way == "browser":
        response = world.client("school_a1_admin").post(
            f"/roster/{teacher.pk}/transfer/", {"to_school": world.school_b1.pk, "effective_date": "2026-06-01", "note": ""}
        )
        assert response.status_code == 302
    else:
        response = world.api("school_a1_admin").post(
            f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": world.school_b1.pk}, format="json"
        )
        assert response.status_code == 200, response.json()
    moved = Declaration.objects.filter(teacher=teacher)
    assert set(moved.values_list("school_id", "district_id")) == {(world.school_b1.pk, world.district_b.pk)}
    assert set(Declaration.objects.exclude(teacher=teacher).values_list("pk", "district_id")) == stay
    assert _districts_right() == []
    # The waiting declaration left district A's queue for district B's.
    ids = lambda persona: [d.pk for d in selectors.review_queue(world.roles[persona], "district")]  # noqa: E731
    assert waiting.pk in ids("district_b_admin") and waiting.pk not in ids("district_a_admin")
    # ... and the one waiting for its school, school A1's queue for school B1's.
    at_school = lambda persona: [d.pk for d in selectors.review_queue(world.roles[persona], "school")]  # noqa: E731
    assert submitted.pk in at_school("school_b1_admin") and submitted.pk not in at_school("school_a1_admin")
    page = world.client("district_b_admin").get("/hours/review/").content.decode()
    assert f'data-testid="queue-item-{waiting.pk}"' in page
    _queues_match_the_scope_rule(world)


def test_a_transfer_within_the_district_or_out_of_the_city_keeps_the_district(world, in_year, private_media):
    for state in STATES:
        declare(world, "teacher_a1", state=state)
    teacher = world.teachers["teacher_a1"]
    role, actor = world.roles["school_a1_admin"], world.users["school_a1_admin"]
    accounts_services.teacher_transfer(role=role, teacher=teacher, to_school=world.school_a2, actor=actor)
    assert set(Declaration.objects.filter(teacher=teacher).values_list("school_id", "district_id")) == {
        (world.school_a2.pk, world.district_a.pk)
    }
    other = TeacherFactory(school=world.school_a1)
    Declaration.objects.filter(teacher=teacher).update(teacher=other)  # the same rows, a teacher still at A1
    Declaration.objects.filter(teacher=other).update(school=world.school_a1)
    accounts_services.teacher_transfer(role=role, teacher=other, to_school=None, actor=actor, note="调往深圳市")
    assert set(Declaration.objects.filter(teacher=other).values_list("school_id", "district_id")) == {
        (world.school_a1.pk, world.district_a.pk)
    }
    assert _districts_right() == []
    _queues_match_the_scope_rule(world)


def _move_through_the_admin(world, school, parent):
    client = world.client("city_admin")
    data = {"name": school.name, "code": school.code, "kind": school.kind, "parent": parent.pk, "is_active": "on"}
    response = client.post(f"/admin/accounts/organisation/{school.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _move_in_the_browser(world, school, parent):
    data = {"name": school.name, "code": school.code, "kind": school.kind, "parent": parent.pk, "is_active": "on"}
    response = world.client("city_admin").post(f"/orgs/{school.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _move_through_the_api(world, school, parent):
    response = world.api("city_admin").patch(f"/api/v1/organisations/{school.pk}/", {"parent": parent.pk}, format="json")
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("move", [_move_in_the_browser, _move_through_the_api, _move_through_the_admin])
def test_a_school_moved_to_another_district_takes_its_declarations_along(world, in_year, private_media, move):
    _everyone_declared(world)
    waiting = declare(world, "teacher_a2", state="school_approved")
    move(world, world.school_a2, world.city_direct)
    assert Organisation.objects.get(pk=world.school_a2.pk).parent_id == world.city_direct.pk
    assert set(Declaration.objects.filter(teacher__school=world.school_a2).values_list("district_id", flat=True)) == {
        world.city_direct.pk
    }
    assert set(Declaration.objects.filter(teacher__school=world.school_a1).values_list("district_id", flat=True)) == {
        world.district_a.pk
    }
    assert _districts_right() == []
    assert waiting.pk in [d.pk for d in selectors.review_queue(world.roles["city_direct_admin"], "district")]
    _queues_match_the_scope_rule(world)


def test_the_admins_other_changes_to_a_school_leave_the_declarations_alone(world, in_year, private_media):
    declare(world, "teacher_a2", state="school_approved")
    school = world.school_a2
    client = world.client("city_admin")
    data = {"name": "东山中学（新校区）", "code": school.code, "kind": school.kind, "parent": school.parent_id, "is_active": "on"}
    assert client.post(f"/admin/accounts/organisation/{school.pk}/change/", data).status_code == 302
    assert Organisation.objects.get(pk=school.pk).name == "东山中学（新校区）"
    assert _districts_right() == []


def test_teachers_imported_from_a_roster_declare_into_their_schools_district(world, in_year, private_media):
    before = declare(world, "teacher_a1", state="school_approved")
    rows = [teacher_row(i) for i in range(3)]
    record = dry_run(world, rows)
    assert world.client("school_a1_admin").post(f"/roster/import/{record.pk}/").status_code == 302
    imported = Teacher.objects.get(id_number=rows[0]["身份证号"])
    imported.user = user = UserFactory(username="imported")
    imported.save(update_fields=["user"])
    role = Role.objects.create(user=user, kind=RoleKind.TEACHER, organisation=world.school_a1)
    decl = _save(role, user, "IMP-1")
    assert Declaration.objects.get(pk=decl.pk).district_id == world.district_a.pk
    assert Declaration.objects.get(pk=decl.pk).school_id == world.school_a1.pk
    assert Declaration.objects.get(pk=before.pk).district_id == world.district_a.pk
    assert _districts_right() == []


def test_every_reviewers_queue_is_the_scope_rules_after_transfers_and_moves(world, in_year, private_media):
    _everyone_declared(world)
    for persona in ("teacher_a1", "teacher_b1", "teacher_c1"):
        declare(world, persona, state="school_approved")
        declare(world, persona, state="submitted")
    _queues_match_the_scope_rule(world)
    role, actor = world.roles["school_a1_admin"], world.users["school_a1_admin"]
    accounts_services.teacher_transfer(role=role, teacher=world.teachers["teacher_a1"], to_school=world.school_c1, actor=actor)
    accounts_services.organisation_update(
        role=world.roles["city_admin"],
        organisation=Organisation.objects.get(pk=world.school_b1.pk),
        data={"parent": world.district_a},
    )
    assert _districts_right() == []
    _queues_match_the_scope_rule(world)
    # Nobody but the two reviewing roles has a queue; a city admin's is empty at both levels.
    assert not selectors.review_queue(world.roles["city_admin"], "district").exists()
    assert selectors.queue_counts(world.roles["city_admin"], "district") == {}


# --- concurrency: a declaration created while its teacher or school moves (PostgreSQL) -------------------------------


def _create_in_a_thread(world, persona, out):
    def run():
        try:
            out["decl"] = _save(world.roles[persona], world.users[persona], f"RACE-{persona}")
        except Exception as exc:  # the test reads what the thread got
            out["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waits_then_lands_in(world, persona, hold, school, district):
    """`hold` makes a move inside a transaction left open; a declaration created meanwhile must wait for it and
    take the district it leads to (without the locks it took the old one and kept it)."""
    out: dict = {}
    with transaction.atomic():
        hold()
        thread = _create_in_a_thread(world, persona, out)
        time.sleep(1.0)
        assert thread.is_alive(), out  # waiting for the move's row lock
    thread.join(timeout=30)
    assert not thread.is_alive() and "error" not in out, out
    stored = Declaration.objects.get(pk=out["decl"].pk)
    assert (stored.school_id, stored.district_id) == (school.pk, district.pk)
    assert _districts_right() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_declaration_created_during_its_teachers_transfer_follows_the_transfer(world, in_year, private_media):
    role, actor = world.roles["school_a1_admin"], world.users["school_a1_admin"]
    teacher = world.teachers["teacher_a1"]
    _waits_then_lands_in(
        world,
        "teacher_a1",
        lambda: accounts_services.teacher_transfer(role=role, teacher=teacher, to_school=world.school_b1, actor=actor),
        world.school_b1,
        world.district_b,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_declaration_created_during_its_schools_move_follows_the_school(world, in_year, private_media):
    school = Organisation.objects.get(pk=world.school_a1.pk)
    _waits_then_lands_in(
        world,
        "teacher_a1",
        lambda: accounts_services.organisation_update(
            role=world.roles["city_admin"], organisation=school, data={"parent": world.city_direct}
        ),
        world.school_a1,
        world.city_direct,
    )


class _Editor:
    """What the migration's RunPython function uses of a schema editor."""

    connection = connection

    def execute(self, sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def test_the_migration_backfill_gives_each_declaration_its_teachers_district(world, in_year, private_media):
    """hours 0008's UPDATE … FROM, run again over rows whose school or district is wrong (on both databases)."""
    _everyone_declared(world)
    migration = importlib.import_module("hours.migrations.0008_declaration_school_district")
    Declaration.objects.filter(teacher__school=world.school_b1).update(district=world.provider_org)
    Declaration.objects.filter(teacher__school=world.school_c1).update(school=world.school_a1)
    assert len(_districts_right()) == 2 * len(STATES)
    migration.backfill(None, _Editor())
    assert _districts_right() == []
