"""The audit log: what is written, that it is append-only, the city admin's page and API, retention."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role, RoleKind
from security.models import AuditEvent
from security.services import audit_prune
from tests.conftest import PASSWORD
from tests.verification.test_scope_and_pages import IN_2026, policy_form


def _events(event, **filters):
    return AuditEvent.objects.filter(event=event, **filters)


def test_login_and_failed_login_are_recorded_with_the_address(world):
    client = Client()
    client.post("/login/", {"username": "teacher_a1", "password": "wrong"}, REMOTE_ADDR="10.2.3.4")
    client.post("/login/", {"username": "teacher_a1", "password": PASSWORD}, REMOTE_ADDR="10.2.3.4")
    failed = _events("login_failed").get()
    assert (failed.actor_username, failed.ip_address, failed.actor) == ("teacher_a1", "10.2.3.4", None)
    ok = _events("login", actor_username="teacher_a1").latest("time")
    assert (ok.ip_address, ok.actor) == ("10.2.3.4", world.users["teacher_a1"])


def test_role_switch_is_recorded(world):
    user = world.users["school_a1_admin"]
    teacher_role = Role.objects.create(user=user, kind=RoleKind.TEACHER, organisation=world.school_a1)
    client = world.client("school_a1_admin")
    client.post("/role/switch/", {"role": teacher_role.pk})
    event = _events("role_switch").get()
    assert event.actor == user
    assert event.object_id == str(teacher_role.pk)
    assert "学校管理员" in event.details["from"]


def test_role_changes_are_recorded_with_who_changed_them(world):
    client = world.client("city_admin")
    target = world.users["teacher_a2"]
    response = client.post(
        "/admin/accounts/role/add/", {"user": target.pk, "kind": RoleKind.SCHOOL_ADMIN, "organisation": world.school_a2.pk}
    )
    assert response.status_code == 302
    event = _events("role_change", actor_username="city_admin").get()
    assert event.details["action"] == "create"
    assert event.details["changes"]["kind"] == [None, "school_admin"]


def test_policy_and_deadline_changes_are_recorded(world):
    with time_machine.travel(IN_2026, tick=False):
        assert world.client("city_admin").post("/verification/policies/", policy_form()).status_code == 302
        city = world.client("city_admin")
        city.get("/hours/years/?edit=2026")
        saved = city.post(
            "/hours/years/?edit=2026",
            {
                "year": "2026",
                "declaration_deadline": "2027-01-10",
                "school_review_deadline": "2027-01-31",
                "district_review_deadline": "2027-02-28",
            },
        )
        assert saved.status_code == 302
    policy = _events("policy_change", actor_username="city_admin").get()
    assert policy.details["changes"]["min_total"][1] in ("96", "96.0", "96.00")
    # The policy form moved the district deadline, the deadlines page the declaration deadline.
    changes = [e.details["changes"] for e in _events("deadline_change", actor_username="city_admin").order_by("pk")]
    assert changes == [
        {"district_review_deadline": ["2027-02-28", "2027-03-15"]},
        {"declaration_deadline": ["2026-12-31", "2027-01-10"], "district_review_deadline": ["2027-03-15", "2027-02-28"]},
    ]


def test_exports_are_recorded_and_the_provincial_one_is_flagged_for_full_id_numbers(world):
    api = world.api("city_admin")
    response = api.post("/api/v1/exports/", {"kind": "provincial_csv", "year": 2025}, format="json")
    assert response.status_code in (201, 202), response.content
    event = _events("export", actor_username="city_admin").get()
    assert event.details["kind"] == "provincial_csv"
    assert event.details["full_id_numbers"] is True


def test_viewing_ones_own_full_id_number_is_recorded_but_the_number_is_not(world):
    teacher = world.teachers["teacher_a1"]
    world.client("teacher_a1").get("/me/record/")
    event = _events("id_number_view").get()
    assert event.object_id == str(teacher.pk)
    assert teacher.id_number not in str(event.details)


def test_audit_events_cannot_be_changed_or_deleted(world):
    Client().post("/login/", {"username": "teacher_a1", "password": PASSWORD})
    event = AuditEvent.objects.first()
    event.details = {"tampered": True}
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(event="x")


def test_city_admin_filters_the_audit_page_by_event_actor_and_date(world):
    day1 = datetime.datetime(2026, 5, 1, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(day1, tick=False):
        Client().post("/login/", {"username": "teacher_a1", "password": "wrong"})
    with time_machine.travel(day1 + datetime.timedelta(days=3), tick=False):
        Client().post("/login/", {"username": "teacher_a2", "password": "wrong"})
    client = world.client("city_admin")
    html = client.get("/account/audit/?event=login_failed").content.decode()
    assert "teacher_a1" in html and "teacher_a2" in html
    html = client.get("/account/audit/?event=login_failed&actor=teacher_a2").content.decode()
    assert "teacher_a1" not in html and "teacher_a2" in html
    html = client.get("/account/audit/?event=login_failed&date_from=2026-05-01&date_to=2026-05-02").content.decode()
    assert "teacher_a1" in html and "teacher_a2" not in html
    # Bad input is a form error, not a 500.
    assert client.get("/account/audit/?date_from=not-a-date").status_code == 200


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin", "teacher_a1"])
def test_only_the_city_admin_reads_the_audit_log(world, persona):
    assert world.client(persona).get("/account/audit/").status_code == 403
    assert world.api(persona).get("/api/v1/audit-events/").status_code == 403


def test_audit_api_lists_and_filters(world):
    Client().post("/login/", {"username": "teacher_a1", "password": "wrong"}, REMOTE_ADDR="10.7.7.7")
    api = world.api("city_admin")
    rows = api.get("/api/v1/audit-events/", {"event": "login_failed", "actor": "teacher_a1"}).json()["results"]
    assert [(r["event"], r["actor_username"], r["ip_address"]) for r in rows] == [("login_failed", "teacher_a1", "10.7.7.7")]
    bad = api.get("/api/v1/audit-events/", {"date_from": "yesterday"})
    assert bad.status_code == 400
    assert "date_from" in bad.json()


def test_prune_keeps_everything_unless_configured_and_never_less_than_180_days(world, settings):
    old = timezone.now() - datetime.timedelta(days=200)
    with time_machine.travel(old, tick=False):
        Client().post("/login/", {"username": "teacher_a1", "password": "wrong"})
    Client().post("/login/", {"username": "teacher_a2", "password": "wrong"})
    settings.CPD_AUDIT_RETENTION_DAYS = 0
    call_command("prune_audit")
    assert _events("login_failed").count() == 2
    settings.CPD_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(ValueError):
        audit_prune()
    settings.CPD_AUDIT_RETENTION_DAYS = 180
    call_command("prune_audit")
    assert list(_events("login_failed").values_list("actor_username", flat=True)) == ["teacher_a2"]


def test_the_audit_prune_is_scheduled_daily_and_prunes_only_when_configured(db, settings):
    from security.services import audit_record
    from security.tasks import prune_audit

    assert settings.CELERY_BEAT_SCHEDULE["prune-audit"]["task"] == "security.tasks.prune_audit"
    with time_machine.travel(timezone.now() - datetime.timedelta(days=400), tick=False):
        old = audit_record(event="login", username="someone")
    settings.CPD_AUDIT_RETENTION_DAYS = 0
    assert prune_audit.apply().get() == 0 and AuditEvent.objects.filter(pk=old.pk).exists()
    settings.CPD_AUDIT_RETENTION_DAYS = 365
    assert prune_audit.apply().get() == 1 and not AuditEvent.objects.filter(pk=old.pk).exists()
    assert prune_audit.apply().get() == 0  # a second run deletes nothing more
