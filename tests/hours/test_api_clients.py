"""What API clients notice: multipart declarations take the model's defaults (and the schema says so),
refusals come in the request's language, a roster with errors is refused at upload (see
tests/accounts/test_roster_import.py), and the city changes an existing exchange window."""

from __future__ import annotations

import datetime

from accounts.models import Role, RoleKind
from hours.models import Declaration, DeclarationState
from points.models import ExchangeWindow

from .conftest import declaration_payload, declare, pdf


def test_a_multipart_declaration_without_the_two_certificate_answers_takes_the_model_defaults(world, in_year, private_media):
    payload = declaration_payload()
    del payload["certificate_in_chinese"], payload["certificate_states_hours"]

    response = world.api("teacher_a1").post(
        "/api/v1/declarations/", {**payload, "certificate": [pdf()], "submit": True}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    decl = Declaration.objects.get()
    assert decl.certificate_in_chinese and decl.certificate_states_hours
    assert decl.state == DeclarationState.SUBMITTED


def test_the_schema_gives_both_certificate_answers_a_default_of_true(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["DeclarationInputRequest"]["properties"]
    assert fields["certificate_in_chinese"]["default"] is True
    assert fields["certificate_states_hours"]["default"] is True


def test_a_teacher_approving_is_refused_in_the_requests_language(world, in_year, private_media):
    decl = declare(world)
    api = world.api("teacher_a1")

    chinese = api.post(f"/api/v1/declarations/{decl.pk}/approve/")
    english = api.post(f"/api/v1/declarations/{decl.pk}/approve/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert chinese.status_code == english.status_code == 403
    assert chinese.json()["detail"] == "只有学校和区管理员可以审核申报。"
    assert english.json()["detail"] == "Only school and district admins review declarations."


def test_a_school_admin_cannot_approve_their_own_declaration_and_is_told_in_their_language(world, in_year, private_media):
    # The school admin of 育才小学 also teaches there (a role each), and declared hours as a teacher.
    teacher_role = Role.objects.create(user=world.users["school_a1_admin"], kind=RoleKind.TEACHER, organisation=world.school_a1)
    world.teachers["teacher_a1"].user = world.users["school_a1_admin"]
    world.teachers["teacher_a1"].save()
    world.roles["teacher_a1"] = teacher_role
    world.users["teacher_a1"] = world.users["school_a1_admin"]
    decl = declare(world)
    api = world.api("school_a1_admin")

    zh = api.post(f"/api/v1/declarations/{decl.pk}/approve/")
    en = api.post(f"/api/v1/declarations/{decl.pk}/approve/", HTTP_ACCEPT_LANGUAGE="en")

    assert zh.status_code == en.status_code == 403
    assert zh.json()["detail"] == "不能审核自己的申报。"
    assert en.json()["detail"] == "You cannot review your own declaration."
    decl.refresh_from_db()
    assert decl.state == DeclarationState.SUBMITTED


def test_bulk_approval_refuses_the_reviewers_own_declaration_too(world, in_year, private_media):
    teacher_role = Role.objects.create(user=world.users["school_a1_admin"], kind=RoleKind.TEACHER, organisation=world.school_a1)
    world.teachers["teacher_a1"].user = world.users["school_a1_admin"]
    world.teachers["teacher_a1"].save()
    world.roles["teacher_a1"] = teacher_role
    world.users["teacher_a1"] = world.users["school_a1_admin"]
    decl = declare(world)

    response = world.api("school_a1_admin").post("/api/v1/declarations/bulk-approve/", {"ids": [decl.pk]}, format="json")

    assert response.status_code == 200
    assert response.json()["approved"] == [] and response.json()["failed"] == [{"id": decl.pk, "error": "不能审核自己的申报。"}]
    decl.refresh_from_db()
    assert decl.state == DeclarationState.SUBMITTED


def test_state_and_field_refusals_follow_the_requests_language_too(world, in_year, private_media):
    decl = declare(world, state="approved")
    api = world.api("teacher_a1")
    conflict = api.post(f"/api/v1/declarations/{decl.pk}/withdraw/", HTTP_ACCEPT_LANGUAGE="en")
    assert conflict.status_code == 409 and conflict.json()["detail"].startswith("This declaration is currently")
    bad = api.post("/api/v1/declarations/", {**declaration_payload(hours="0")}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and all(ord(ch) < 0x3000 for msgs in bad.json().values() for m in msgs for ch in m)


def test_the_city_changes_an_existing_years_exchange_window(world):
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
    city = world.api("city_admin")

    patched = city.patch("/api/v1/points/windows/2026/", {"closes_on": "2026-12-20"}, format="json")
    put = city.put("/api/v1/points/windows/2026/", {"opens_on": "2026-02-01", "closes_on": "2026-12-25"}, format="json")
    refused = world.api("school_a1_admin").patch("/api/v1/points/windows/2026/", {"closes_on": "2026-12-31"}, format="json")
    bad = city.patch("/api/v1/points/windows/2026/", {"closes_on": "2027-01-05"}, format="json")

    assert patched.status_code == 200 and patched.json()["closes_on"] == "2026-12-20"
    assert put.status_code == 200 and put.json() == {"year": 2026, "opens_on": "2026-02-01", "closes_on": "2026-12-25"}
    assert refused.status_code == 403
    assert bad.status_code == 400
    window = ExchangeWindow.objects.get(year=2026)
    assert (window.opens_on, window.closes_on) == (datetime.date(2026, 2, 1), datetime.date(2026, 12, 25))
