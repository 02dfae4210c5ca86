"""Transfer, retirement and exit: history kept, visibility moves with the teacher (SPEC §2)."""

from __future__ import annotations

import datetime

from accounts.models import Role, RoleKind, Teacher, TeacherEvent, TeacherEventKind, TeacherStatus


def _transfer_in_browser(world, teacher, to_school, **extra):
    data = {"to_school": to_school.pk if to_school else "", "effective_date": "2026-03-01", "note": "", **extra}
    return world.client("school_a1_admin").post(f"/roster/{teacher.pk}/transfer/", data)


def test_transfer_keeps_history_with_both_schools(world):
    teacher = world.teachers["teacher_a1"]
    response = _transfer_in_browser(world, teacher, world.school_b1, note="工作调动")
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert (teacher.school_id, teacher.status) == (world.school_b1.pk, TeacherStatus.ACTIVE)
    event = TeacherEvent.objects.get(teacher=teacher)
    assert event.kind == TeacherEventKind.TRANSFERRED
    assert (event.from_school_id, event.to_school_id) == (world.school_a1.pk, world.school_b1.pk)
    assert event.effective_date == datetime.date(2026, 3, 1)
    assert (event.note, event.actor) == ("工作调动", world.users["school_a1_admin"])
    # The receiving school sees the history on the teacher's page.
    page = world.client("school_b1_admin").get(f"/roster/{teacher.pk}/").content.decode()
    history = page.split('data-testid="history"')[1]
    assert "育才小学" in history and "南华小学" in history


def test_transfer_moves_visibility_to_the_receiving_school(world):
    teacher = world.teachers["teacher_a1"]
    _transfer_in_browser(world, teacher, world.school_b1)

    receiving = world.client("school_b1_admin")
    assert teacher.pk in {t.pk for t in receiving.get("/roster/").context["page"].object_list}
    assert receiving.get(f"/roster/{teacher.pk}/").status_code == 200
    assert world.api("school_b1_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 200
    assert teacher.pk in {r["id"] for r in world.api("school_b1_admin").get("/api/v1/teachers/").json()["results"]}

    sending = world.client("school_a1_admin")
    assert teacher.pk not in {t.pk for t in sending.get("/roster/?status=").context["page"].object_list}
    assert sending.get(f"/roster/{teacher.pk}/").status_code == 404
    assert world.api("school_a1_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 404
    # ... and the sending district too, while the new one sees the teacher.
    assert world.api("district_a_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 404
    assert world.api("district_b_admin").get(f"/api/v1/teachers/{teacher.pk}/").status_code == 200


def test_transferred_teachers_login_follows_to_the_new_school(world):
    teacher = world.teachers["teacher_a1"]
    response = world.api("school_a1_admin").post(
        f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": world.school_c1.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["school"]["id"] == world.school_c1.pk
    role = Role.objects.get(user=world.users["teacher_a1"], kind=RoleKind.TEACHER)
    assert role.organisation == world.school_c1
    me = world.api("teacher_a1").get("/api/v1/me/").json()
    assert me["active_role"]["organisation"]["id"] == world.school_c1.pk
    assert me["teacher"]["school"]["id"] == world.school_c1.pk
    # The teacher still reaches their own record.
    assert world.client("teacher_a1").get("/me/record/").status_code == 200


def test_transfer_out_of_the_city_marks_the_teacher_transferred(world):
    teacher = world.teachers["teacher_a1"]
    response = _transfer_in_browser(world, teacher, None, note="调往深圳市某学校")
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert (teacher.status, teacher.school_id) == (TeacherStatus.TRANSFERRED, world.school_a1.pk)
    event = TeacherEvent.objects.get(teacher=teacher)
    assert event.kind == TeacherEventKind.TRANSFERRED_OUT
    assert (event.from_status, event.to_status) == (TeacherStatus.ACTIVE, TeacherStatus.TRANSFERRED)
    assert event.note == "调往深圳市某学校"
    # Still on the school's roster with that status, no longer counted as active.
    roster = world.client("school_a1_admin").get("/roster/", {"status": "transferred"})
    assert [t.pk for t in roster.context["page"].object_list] == [teacher.pk]


def test_transfer_out_of_the_city_needs_a_destination_note(world):
    teacher = world.teachers["teacher_a1"]
    response = world.api("school_a1_admin").post(f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": None}, format="json")
    assert response.status_code == 400
    assert "note" in response.json()
    teacher.refresh_from_db()
    assert teacher.status == TeacherStatus.ACTIVE


def test_transfer_to_a_district_or_an_inactive_school_is_refused(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("school_a1_admin")
    response = api.post(f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": world.district_b.pk}, format="json")
    assert response.status_code == 400
    world.school_b1.is_active = False
    world.school_b1.save()
    response = api.post(f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": world.school_b1.pk}, format="json")
    assert response.status_code == 400
    teacher.refresh_from_db()
    assert teacher.school_id == world.school_a1.pk
    assert not TeacherEvent.objects.filter(teacher=teacher).exists()


def test_retire_sets_status_and_history(world):
    teacher = world.teachers["teacher_a1"]
    response = world.client("school_a1_admin").post(
        f"/roster/{teacher.pk}/retire/", {"effective_date": "2026-02-01", "note": "到龄退休"}
    )
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert (teacher.status, teacher.status_changed_on) == (TeacherStatus.RETIRED, datetime.date(2026, 2, 1))
    event = TeacherEvent.objects.get(teacher=teacher)
    assert (event.kind, event.from_status, event.to_status) == (
        TeacherEventKind.RETIRED,
        TeacherStatus.ACTIVE,
        TeacherStatus.RETIRED,
    )
    assert event.note == "到龄退休"


def test_leave_through_the_api_sets_status_and_history(world):
    teacher = world.teachers["teacher_a1"]
    response = world.api("school_a1_admin").post(f"/api/v1/teachers/{teacher.pk}/leave/", {"note": "辞职"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "left"
    event = TeacherEvent.objects.get(teacher=teacher)
    assert (event.kind, event.to_status, event.note) == (TeacherEventKind.LEFT, TeacherStatus.LEFT, "辞职")


def test_retiring_an_already_retired_teacher_is_a_conflict(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("school_a1_admin")
    assert api.post(f"/api/v1/teachers/{teacher.pk}/retire/", {}, format="json").status_code == 200
    response = api.post(f"/api/v1/teachers/{teacher.pk}/retire/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert TeacherEvent.objects.filter(teacher=teacher).count() == 1


def test_transferring_a_retired_teacher_is_a_conflict(world):
    teacher = world.teachers["teacher_a1"]
    api = world.api("school_a1_admin")
    api.post(f"/api/v1/teachers/{teacher.pk}/retire/", {}, format="json")
    response = api.post(f"/api/v1/teachers/{teacher.pk}/transfer/", {"to_school": world.school_b1.pk}, format="json")
    assert response.status_code == 409
    teacher.refresh_from_db()
    assert (teacher.school_id, teacher.status) == (world.school_a1.pk, TeacherStatus.RETIRED)


def test_retiring_twice_in_the_browser_shows_an_error_and_changes_nothing(world):
    teacher = world.teachers["teacher_a1"]
    client = world.client("school_a1_admin")
    client.post(f"/roster/{teacher.pk}/retire/", {"effective_date": "2026-02-01"})
    response = client.post(f"/roster/{teacher.pk}/leave/", {"effective_date": "2026-03-01"}, follow=True)
    assert "只有在职教师" in response.content.decode()
    teacher.refresh_from_db()
    assert (teacher.status, teacher.status_changed_on) == (TeacherStatus.RETIRED, datetime.date(2026, 2, 1))
    assert Teacher.objects.get(pk=teacher.pk).events.count() == 1
