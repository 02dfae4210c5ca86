"""Attendance registration (学时登记) by the organiser, its deadlines and extensions, and a
teacher's complaint about a registration (SPEC §3 source 2)."""

import datetime
from decimal import Decimal

import pytest

from hours.models import LedgerEntry, Notification, Source
from training import projects
from training.models import ExtensionState, RegistrationComplaint, RegistrationExtension

from .projects_kit import at, make_project


def _register(world, persona, project, rows, **extra):
    return world.api(persona).post(
        f"/api/v1/projects/{project.pk}/register/",
        {"rows": [{"teacher": world.teachers[t].pk, "hours": str(h)} for t, h in rows], **extra},
        format="json",
    )


def _entries(project):
    return LedgerEntry.objects.filter(project=project, source=Source.REGISTRATION)


def _teacher_ledger(world, persona):
    return world.api(persona).get("/api/v1/ledger/").json()["results"]


def _registered(world, project, persona="teacher_a1", hours=None, organiser="city_admin"):
    projects.registration_register(
        role=world.roles[organiser],
        actor=world.users[organiser],
        project=project,
        rows=[(world.teachers[persona].pk, hours or project.hours)],
    )
    return _entries(project).get(teacher=world.teachers[persona])


# --- ticking attendees ------------------------------------------------------------------------------


def test_organiser_registers_ticked_attendees_into_their_ledgers_with_the_organisers_name(world, in_year):
    project = make_project(world, "city_admin", title="新课标专题培训", category="professional")

    response = _register(world, "city_admin", project, [("teacher_a1", 12), ("teacher_b1", "6.5")])
    ledger = _teacher_ledger(world, "teacher_a1")

    assert response.status_code == 200, response.json()
    assert response.json() == {"registered": 2, "unchanged": 0}
    assert len(ledger) == 1
    assert ledger[0]["title"] == "新课标专题培训" and ledger[0]["organiser"] == "广州市"
    assert ledger[0]["hours"] == "12.0" and ledger[0]["year"] == 2026 and ledger[0]["category"] == "professional"
    assert ledger[0]["source"] == "registration"
    b1 = _entries(project).get(teacher=world.teachers["teacher_b1"])
    assert b1.hours == Decimal("6.5") and b1.actor == world.users["city_admin"]


def test_a_teacher_twice_in_one_batch_refuses_the_batch(world, in_year):
    """Two rows for one teacher (say 12 and 6 hours) are a mistake to fix, not something to guess at."""
    project = make_project(world, "city_admin")

    response = _register(world, "city_admin", project, [("teacher_a1", 12), ("teacher_b1", 6), ("teacher_a1", 6)])

    assert response.status_code == 400
    assert str(world.teachers["teacher_a1"].pk) in response.json()["teachers"][0]
    assert not _entries(project).exists()


def test_registering_the_same_teacher_again_adds_nothing(world, in_year):
    project = make_project(world, "city_admin")
    _register(world, "city_admin", project, [("teacher_a1", 12)])

    again = _register(world, "city_admin", project, [("teacher_a1", 12), ("teacher_b1", 12)])

    assert again.json() == {"registered": 1, "unchanged": 1}
    assert _entries(project).filter(teacher=world.teachers["teacher_a1"]).count() == 1
    assert _entries(project).count() == 2


def test_school_admin_ticks_attendees_on_the_project_page(world, in_year):
    project = make_project(world, "school_a1_admin", kind="school_based", title="校本教研：作业设计")
    teacher = world.teachers["teacher_a1"]
    client = world.client("school_a1_admin")

    page = client.get(f"/hours/projects/{project.pk}/").content.decode()
    done = client.post(
        f"/hours/projects/{project.pk}/register/", {"teachers": [teacher.pk], f"hours_{teacher.pk}": "6"}, follow=True
    )
    again = client.post(f"/hours/projects/{project.pk}/register/", {"teachers": [teacher.pk]}, follow=True)

    assert f'data-testid="tick-{teacher.pk}"' in page
    assert "已登记 1 人" in done.content.decode()
    assert "已登记 0 人；1 人此前已登记" in again.content.decode()
    entry = _entries(project).get()
    assert entry.teacher == teacher and entry.hours == Decimal("6") and entry.organiser == "育才小学"


def test_a_blank_hours_box_registers_the_projects_hours(world, in_year):
    project = make_project(world, "school_a1_admin", kind="school_based", hours=Decimal("9"), end_date=datetime.date(2026, 3, 3))
    teacher = world.teachers["teacher_a1"]

    world.client("school_a1_admin").post(
        f"/hours/projects/{project.pk}/register/", {"teachers": [teacher.pk], f"hours_{teacher.pk}": ""}
    )

    assert _entries(project).get().hours == Decimal("9")


def test_hours_above_the_projects_hours_are_refused_and_nothing_is_registered(world, in_year):
    project = make_project(world, "city_admin", hours=Decimal("12"))

    response = _register(world, "city_admin", project, [("teacher_a1", 12), ("teacher_b1", "12.5")])
    page = world.client("city_admin").post(
        f"/hours/projects/{project.pk}/register/",
        {"teachers": [world.teachers["teacher_b1"].pk], f"hours_{world.teachers['teacher_b1'].pk}": "13"},
        follow=True,
    )

    assert response.status_code == 400 and "hours" in response.json()
    assert "12.0" in " ".join(response.json()["hours"])
    assert "不超过项目学时" in page.content.decode()
    assert not _entries(project).exists()


def test_a_teacher_outside_the_organisers_scope_is_refused_and_nothing_is_registered(world, in_year):
    project = make_project(world, "school_a1_admin")
    outsider = world.teachers["teacher_b1"]

    response = _register(world, "school_a1_admin", project, [("teacher_a1", 12), ("teacher_b1", 12)])
    page = world.client("school_a1_admin").post(
        f"/hours/projects/{project.pk}/register/", {"teachers": [outsider.pk]}, follow=True
    )

    assert response.status_code == 400
    assert str(outsider.pk) in " ".join(response.json()["teachers"])
    assert "不在本单位的登记范围内" in page.content.decode()
    assert not _entries(project).exists()


def test_someone_who_did_not_organise_the_project_cannot_register_hours(world, in_year):
    project = make_project(world, "city_admin")

    api_district = _register(world, "district_a_admin", project, [("teacher_a1", 12)])
    api_teacher = _register(world, "teacher_a1", project, [("teacher_a1", 12)])
    page = world.client("district_a_admin").post(
        f"/hours/projects/{project.pk}/register/", {"teachers": [world.teachers["teacher_a1"].pk]}
    )

    assert api_district.status_code == 403 and api_teacher.status_code == 403
    assert page.status_code == 404
    assert not _entries(project).exists()


def test_a_provider_registers_only_teachers_finally_enrolled(world, in_year):
    project = make_project(world, "provider", enrolment=True)

    response = _register(world, "provider", project, [("teacher_a1", 12)])

    assert response.status_code == 400
    assert not _entries(project).exists()


# --- deadlines -------------------------------------------------------------------------------------------


def test_city_training_registers_on_dec_31_but_not_on_jan_1(world, in_year):
    project = make_project(world, "city_admin")

    in_year.move_to(at(2026, 12, 31, 23, 59))
    on_dec_31 = _register(world, "city_admin", project, [("teacher_a1", 12)])
    in_year.move_to(at(2027, 1, 1, 0, 1))
    on_jan_1 = _register(world, "city_admin", project, [("teacher_b1", 12)])

    assert on_dec_31.status_code == 200 and on_dec_31.json()["registered"] == 1
    assert on_jan_1.status_code == 409 and "2026-12-31" in on_jan_1.json()["detail"]
    assert list(_entries(project).values_list("teacher__name", flat=True)) == [world.teachers["teacher_a1"].name]


def test_late_registration_on_the_page_names_the_deadline(world, in_year):
    project = make_project(world, "city_admin")
    in_year.move_to(at(2027, 1, 2))

    page = world.client("city_admin").post(
        f"/hours/projects/{project.pk}/register/", {"teachers": [world.teachers["teacher_a1"].pk]}, follow=True
    )

    assert "2026-12-31" in page.content.decode()
    assert not _entries(project).exists()


def test_school_based_training_registers_until_jan_31_of_the_next_year(world, in_year):
    project = make_project(world, "school_a1_admin", kind="school_based")

    in_year.move_to(at(2027, 1, 31, 18))
    on_jan_31 = _register(world, "school_a1_admin", project, [("teacher_a1", 12)])
    in_year.move_to(at(2027, 2, 1, 8))
    on_feb_1 = world.api("school_a1_admin").post(
        f"/api/v1/projects/{project.pk}/register/",
        {"rows": [{"teacher": world.teachers["teacher_a1"].pk, "hours": "12"}]},
        format="json",
    )

    assert on_jan_31.status_code == 200 and on_jan_31.json()["registered"] == 1
    assert _entries(project).get().year == 2026
    assert on_feb_1.status_code == 409 and "2027-01-31" in on_feb_1.json()["detail"]


def test_teaching_research_also_registers_until_jan_31(world, in_year):
    project = make_project(world, "district_a_admin", kind="teaching_research")
    in_year.move_to(at(2027, 1, 20))

    assert _register(world, "district_a_admin", project, [("teacher_a1", 12)]).status_code == 200


# --- extensions ----------------------------------------------------------------------------------------------


def _request_extension(world, project, until, persona="district_a_admin"):
    return world.api(persona).post(
        f"/api/v1/projects/{project.pk}/extension/",
        {"requested_until": until, "reason": "培训结束较晚，考勤表需汇总"},
        format="json",
    )


def test_an_extension_asked_by_dec_1_and_granted_lets_registration_run_to_the_granted_date(world, in_year):
    project = make_project(world, "district_a_admin")
    in_year.move_to(at(2026, 12, 1, 17))
    asked = _request_extension(world, project, "2027-01-20")
    granted = world.api("city_admin").post(
        f"/api/v1/extensions/{asked.json()['id']}/decide/",
        {"grant": True, "granted_until": "2027-01-15", "note": "同意"},
        format="json",
    )

    in_year.move_to(at(2027, 1, 15, 20))
    on_granted_day = _register(world, "district_a_admin", project, [("teacher_a1", 12)])
    in_year.move_to(at(2027, 1, 16, 8))
    day_after = _register(world, "district_a_admin", project, [("teacher_a2", 12)])

    assert asked.status_code == 201
    assert granted.status_code == 200 and granted.json()["state"] == "granted" and granted.json()["granted_until"] == "2027-01-15"
    assert on_granted_day.status_code == 200 and on_granted_day.json()["registered"] == 1
    assert day_after.status_code == 409 and "2027-01-15" in day_after.json()["detail"]
    assert world.api("district_a_admin").get(f"/api/v1/projects/{project.pk}/").json()["registration_deadline"] == "2027-01-15"


def test_an_extension_asked_on_dec_2_is_refused_naming_dec_1(world, in_year):
    project = make_project(world, "district_a_admin")
    in_year.move_to(at(2026, 12, 2, 9))

    response = _request_extension(world, project, "2027-01-20")

    assert response.status_code == 409 and "2026-12-01" in response.json()["detail"]
    assert not RegistrationExtension.objects.exists()


def test_a_refused_extension_changes_nothing(world, in_year):
    project = make_project(world, "district_a_admin")
    in_year.move_to(at(2026, 11, 20))
    ext_id = _request_extension(world, project, "2027-01-20").json()["id"]
    without_note = world.api("city_admin").post(f"/api/v1/extensions/{ext_id}/decide/", {"grant": False}, format="json")
    refused = world.api("city_admin").post(
        f"/api/v1/extensions/{ext_id}/decide/", {"grant": False, "note": "理由不充分"}, format="json"
    )

    in_year.move_to(at(2027, 1, 1, 9))
    late = _register(world, "district_a_admin", project, [("teacher_a1", 12)])

    assert without_note.status_code == 400
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    assert late.status_code == 409 and "2026-12-31" in late.json()["detail"]
    assert not _entries(project).exists()


def test_only_the_city_admin_decides_an_extension(world, in_year):
    project = make_project(world, "district_a_admin")
    ext_id = _request_extension(world, project, "2027-01-20").json()["id"]

    response = world.api("district_a_admin").post(f"/api/v1/extensions/{ext_id}/decide/", {"grant": True}, format="json")

    assert response.status_code == 403
    assert RegistrationExtension.objects.get(pk=ext_id).state == ExtensionState.PENDING


def test_extension_asked_and_granted_on_the_pages(world, in_year):
    project = make_project(world, "district_a_admin")
    in_year.move_to(at(2026, 11, 30))

    asked = world.client("district_a_admin").post(
        f"/hours/projects/{project.pk}/extension/", {"requested_until": "2027-01-10", "reason": "期末考务冲突"}, follow=True
    )
    ext = RegistrationExtension.objects.get(project=project)
    queue = world.client("city_admin").get("/hours/extensions/").content.decode()
    world.client("city_admin").post(
        "/hours/extensions/", {"extension": ext.pk, "decision": "grant", "granted_until": "2027-01-10", "note": ""}
    )
    in_year.move_to(at(2027, 1, 10))
    late = _register(world, "district_a_admin", project, [("teacher_a1", 12)])

    assert "延期申请已提交" in asked.content.decode()
    assert project.title in queue
    assert late.status_code == 200


# --- complaints -----------------------------------------------------------------------------------------------


def test_teacher_complains_on_the_page_and_the_organiser_accepts_so_the_entry_is_revoked(world, in_year):
    project = make_project(world, "city_admin", title="心理健康教育培训")
    entry = _registered(world, project)

    filed = world.client("teacher_a1").post(
        f"/hours/registrations/{entry.pk}/complain/", {"message": "我当天请假未参加"}, follow=True
    )
    complaint = RegistrationComplaint.objects.get(entry=entry)
    organiser_list = world.client("city_admin").get("/hours/complaints/").content.decode()
    world.client("city_admin").post(
        "/hours/complaints/", {"complaint": complaint.pk, "decision": "accept", "response": "已核实，撤销登记"}
    )

    ledger = _teacher_ledger(world, "teacher_a1")
    assert "异议已提交给主办单位" in filed.content.decode()
    assert "我当天请假未参加" in organiser_list
    assert sum(Decimal(e["hours"]) for e in ledger) == 0
    revoking = [e for e in ledger if e["revokes"] == entry.pk]
    assert len(revoking) == 1 and revoking[0]["hours"] == "-12.0"
    notes = list(Notification.objects.filter(user=world.users["teacher_a1"]).values_list("message", flat=True))
    assert len(notes) == 1 and "心理健康教育培训" in notes[0] and "已核实，撤销登记" in notes[0]


def test_after_an_accepted_complaint_the_organiser_can_register_the_right_hours(world, in_year):
    project = make_project(world, "city_admin")
    entry = _registered(world, project, hours=Decimal("12"))
    complaint = world.api("teacher_a1").post(
        "/api/v1/registration-complaints/", {"entry": entry.pk, "message": "只参加了一天"}, format="json"
    )
    world.api("city_admin").post(
        f"/api/v1/registration-complaints/{complaint.json()['id']}/resolve/",
        {"accept": True, "response": "改为6学时"},
        format="json",
    )

    again = _register(world, "city_admin", project, [("teacher_a1", 6)])

    assert complaint.status_code == 201
    assert again.json() == {"registered": 1, "unchanged": 0}
    assert sum(Decimal(e["hours"]) for e in _teacher_ledger(world, "teacher_a1")) == Decimal("6")


def test_a_dismissed_complaint_changes_no_hours_and_tells_the_teacher(world, in_year):
    project = make_project(world, "city_admin")
    entry = _registered(world, project)
    complaint_id = (
        world.api("teacher_a1")
        .post("/api/v1/registration-complaints/", {"entry": entry.pk, "message": "学时应为18"}, format="json")
        .json()["id"]
    )

    resolved = world.api("city_admin").post(
        f"/api/v1/registration-complaints/{complaint_id}/resolve/",
        {"accept": False, "response": "项目共12学时，维持原登记"},
        format="json",
    )

    assert resolved.status_code == 200 and resolved.json()["state"] == "dismissed"
    assert [e["hours"] for e in _teacher_ledger(world, "teacher_a1")] == ["12.0"]
    notes = list(Notification.objects.filter(user=world.users["teacher_a1"]).values_list("message", flat=True))
    assert len(notes) == 1 and "维持原登记" in notes[0]
    mine = world.api("teacher_a1").get("/api/v1/registration-complaints/").json()["results"]
    assert mine[0]["state"] == "dismissed" and mine[0]["response"] == "项目共12学时，维持原登记"


def test_a_complaint_is_resolved_only_once(world, in_year):
    project = make_project(world, "city_admin")
    entry = _registered(world, project)
    complaint_id = (
        world.api("teacher_a1")
        .post("/api/v1/registration-complaints/", {"entry": entry.pk, "message": "有误"}, format="json")
        .json()["id"]
    )
    url = f"/api/v1/registration-complaints/{complaint_id}/resolve/"
    world.api("city_admin").post(url, {"accept": True, "response": "撤销"}, format="json")

    again = world.api("city_admin").post(url, {"accept": True, "response": "撤销"}, format="json")

    assert again.status_code == 409
    assert LedgerEntry.objects.filter(revokes=entry).count() == 1


def test_a_second_complaint_while_one_is_open_is_refused(world, in_year):
    project = make_project(world, "city_admin")
    entry = _registered(world, project)
    world.api("teacher_a1").post("/api/v1/registration-complaints/", {"entry": entry.pk, "message": "有误"}, format="json")

    again = world.api("teacher_a1").post(
        "/api/v1/registration-complaints/", {"entry": entry.pk, "message": "还是有误"}, format="json"
    )

    assert again.status_code == 409
    assert RegistrationComplaint.objects.count() == 1


def test_a_teacher_cannot_complain_about_someone_elses_registration(world, in_year):
    project = make_project(world, "city_admin")
    entry = _registered(world, project, persona="teacher_a1")

    api = world.api("teacher_a2").post("/api/v1/registration-complaints/", {"entry": entry.pk, "message": "有误"}, format="json")
    page = world.client("teacher_a2").get(f"/hours/registrations/{entry.pk}/complain/")

    assert api.status_code == 404 and page.status_code == 404
    assert not RegistrationComplaint.objects.exists()


@pytest.mark.parametrize("persona", ["district_a_admin", "school_a1_admin"])
def test_only_the_organiser_resolves_a_complaint(world, in_year, persona):
    project = make_project(world, "city_admin")
    entry = _registered(world, project)
    complaint_id = (
        world.api("teacher_a1")
        .post("/api/v1/registration-complaints/", {"entry": entry.pk, "message": "有误"}, format="json")
        .json()["id"]
    )

    response = world.api(persona).post(
        f"/api/v1/registration-complaints/{complaint_id}/resolve/", {"accept": True, "response": "x"}, format="json"
    )

    assert response.status_code == 404
    assert not LedgerEntry.objects.filter(revokes=entry).exists()


def test_non_numeric_ids_posted_to_the_extension_and_complaint_pages_are_404_not_500(world):
    assert world.client("city_admin").post("/hours/extensions/", {"extension": "abc", "decision": "grant"}).status_code == 404
    assert (
        world.client("school_a1_admin")
        .post("/hours/complaints/", {"complaint": "x1", "decision": "accept", "response": "r"})
        .status_code
        == 404
    )
    assert (
        world.client("district_a_admin")
        .post("/verification/complaints/", {"complaint": "1 OR 1", "decision": "upheld", "resolution": "r"})
        .status_code
        == 404
    )


def test_a_teacher_does_not_see_the_school_s_unpublished_projects(world):
    from decimal import Decimal

    from training import projects

    admin = world.roles["school_a1_admin"]
    draft = projects.project_save(
        role=admin,
        actor=admin.user,
        data={
            "title": "未发布的校本研修",
            "category": "professional",
            "hours": Decimal("6"),
            "start_date": "2026-03-02",
            "end_date": "2026-03-02",
            "level": "school",
            "kind": "school_based",
        },
    )
    assert world.client("school_a1_admin").get(f"/hours/projects/{draft.pk}/").status_code == 200
    assert world.client("teacher_a1").get(f"/hours/projects/{draft.pk}/").status_code == 404
