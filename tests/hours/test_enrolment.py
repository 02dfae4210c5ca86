"""Enrolment in a training project: the window, the quota per district, and the principal →
district → city approvals, through the API and the pages (SPEC §8)."""

import pytest
import time_machine

from accounts.models import RoleKind
from training.models import Enrolment, EnrolmentEvent, EnrolmentState

from .projects_kit import add_persona, at, make_project


@pytest.fixture
def window():
    """Freeze time on 10 February 2026, inside the enrolment window (1–20 February)."""
    with time_machine.travel(at(2026, 2, 10), tick=False) as t:
        yield t


def _enrol(world, persona, project):
    return world.api(persona).post(f"/api/v1/projects/{project.pk}/enrol/")


def _approve(world, persona, enrolment_id):
    return world.api(persona).post(f"/api/v1/enrolments/{enrolment_id}/approve/")


def _state(enrolment_id):
    return Enrolment.objects.get(pk=enrolment_id).state


def _bring_to(world, enrolment_id, state, principal="principal_a1", district="district_a_admin"):
    steps = {
        EnrolmentState.APPLIED: [],
        EnrolmentState.PRINCIPAL_APPROVED: [principal],
        EnrolmentState.DISTRICT_APPROVED: [principal, district],
        EnrolmentState.FINAL: [principal, district, "city_admin"],
    }[state]
    for persona in steps:
        response = _approve(world, persona, enrolment_id)
        assert response.status_code == 200, response.json()


def _set_quota(world, project, district, quota):
    response = world.api("city_admin").patch(
        f"/api/v1/projects/{project.pk}/", {"quotas": [{"district": district.pk, "quota": quota}]}, format="json"
    )
    assert response.status_code == 200, response.json()


# --- the three approvals ------------------------------------------------------------------------


def test_enrolment_is_approved_by_the_principal_then_the_district_and_finalised_by_the_city(world, window):
    project = make_project(world, enrolment=True)

    applied = _enrol(world, "teacher_a1", project)
    enrolment_id = applied.json()["id"]
    states = []
    for persona in ("principal_a1", "district_a_admin", "city_admin"):
        response = _approve(world, persona, enrolment_id)
        assert response.status_code == 200, response.json()
        states.append(response.json()["state"])
    seen_by_teacher = world.api("teacher_a1").get(f"/api/v1/enrolments/{enrolment_id}/")

    assert applied.status_code == 201 and applied.json()["state"] == "applied"
    assert states == ["principal_approved", "district_approved", "final"]
    assert seen_by_teacher.json()["state"] == "final"
    events = EnrolmentEvent.objects.filter(enrolment_id=enrolment_id).order_by("pk")
    assert [(e.action, e.actor.username) for e in events] == [
        ("apply", "teacher_a1"),
        ("principal_approve", "principal_a1"),
        ("district_approve", "district_a_admin"),
        ("finalise", "city_admin"),
    ]


def test_district_cannot_approve_before_the_principal_and_the_city_cannot_skip_the_district(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    by_district = _approve(world, "district_a_admin", enrolment_id)
    by_city = _approve(world, "city_admin", enrolment_id)

    assert by_district.status_code == 409 and "待校长审核" in by_district.json()["detail"]
    assert by_city.status_code == 409
    assert _state(enrolment_id) == EnrolmentState.APPLIED


def test_each_approver_finds_the_enrolment_in_their_queue_and_approves_it_on_the_page(world, window):
    project = make_project(world, enrolment=True, title="班主任能力提升")

    enrolled = world.client("teacher_a1").post(f"/hours/projects/{project.pk}/enrol/", follow=True)
    enrolment = Enrolment.objects.get(project=project)
    pages = {}
    for persona in ("principal_a1", "district_a_admin", "city_admin"):
        client = world.client(persona)
        pages[persona] = client.get("/hours/enrolments/").content.decode()
        done = client.post("/hours/enrolments/action/", {"action": "approve", "ids": [enrolment.pk]}, follow=True)
        assert "已办理 1 条报名" in done.content.decode()
    teacher_page = world.client("teacher_a1").get("/hours/enrolments/").content.decode()

    assert "报名成功" in enrolled.content.decode()
    for page in pages.values():
        assert "班主任能力提升" in page and world.teachers["teacher_a1"].name in page
    assert _state(enrolment.pk) == EnrolmentState.FINAL
    assert "已确认" in teacher_page


def test_principal_rejects_with_a_reason_the_teacher_can_read(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    without_reason = world.api("principal_a1").post(f"/api/v1/enrolments/{enrolment_id}/reject/", {}, format="json")
    rejected = world.api("principal_a1").post(
        f"/api/v1/enrolments/{enrolment_id}/reject/", {"reason": "本学期教学任务重"}, format="json"
    )
    seen_by_teacher = world.api("teacher_a1").get(f"/api/v1/enrolments/{enrolment_id}/").json()

    assert without_reason.status_code == 400 and "reason" in without_reason.json()
    assert rejected.status_code == 200
    assert seen_by_teacher["state"] == "rejected" and seen_by_teacher["reason"] == "本学期教学任务重"


def test_district_rejects_on_the_page_and_the_reason_shows_in_the_teachers_list(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]
    _bring_to(world, enrolment_id, EnrolmentState.PRINCIPAL_APPROVED)
    client = world.client("district_a_admin")

    no_reason = client.post("/hours/enrolments/action/", {"action": "reject", "ids": [enrolment_id]}, follow=True)
    state_after_no_reason = _state(enrolment_id)
    client.post(
        "/hours/enrolments/action/", {"action": "reject", "ids": [enrolment_id], "reason": "名额优先给新教师"}, follow=True
    )
    teacher_page = world.client("teacher_a1").get("/hours/enrolments/").content.decode()

    assert "请填写不通过的原因" in no_reason.content.decode()
    assert state_after_no_reason == EnrolmentState.PRINCIPAL_APPROVED
    assert _state(enrolment_id) == EnrolmentState.REJECTED
    assert "未通过" in teacher_page and "名额优先给新教师" in teacher_page


def test_teacher_withdraws_and_may_enrol_again(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    withdrawn = world.api("teacher_a1").post(f"/api/v1/enrolments/{enrolment_id}/withdraw/")
    again = _enrol(world, "teacher_a1", project)

    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert again.status_code == 201 and again.json() == {"id": enrolment_id, "state": "applied"}


def test_teacher_withdraws_on_the_page(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    world.client("teacher_a1").post("/hours/enrolments/action/", {"action": "withdraw", "ids": [enrolment_id]}, follow=True)

    assert _state(enrolment_id) == EnrolmentState.WITHDRAWN


def test_enrolling_twice_is_refused(world, window):
    project = make_project(world, enrolment=True)
    _enrol(world, "teacher_a1", project)

    again = _enrol(world, "teacher_a1", project)

    assert again.status_code == 409 and "已报名" in again.json()["detail"]
    assert Enrolment.objects.filter(project=project).count() == 1


def test_a_finalised_enrolment_cannot_be_withdrawn(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]
    _bring_to(world, enrolment_id, EnrolmentState.FINAL)

    response = world.api("teacher_a1").post(f"/api/v1/enrolments/{enrolment_id}/withdraw/")

    assert response.status_code == 409
    assert _state(enrolment_id) == EnrolmentState.FINAL


# --- quotas -------------------------------------------------------------------------------------------


def test_third_application_from_a_district_with_two_places_says_the_quota_is_full(world, window):
    add_persona(world, "teacher_a1b", RoleKind.TEACHER, world.school_a1)
    project = make_project(world, enrolment=True, quotas={world.district_a: 2})
    first = _enrol(world, "teacher_a1", project)
    second = _enrol(world, "teacher_a2", project)

    third = _enrol(world, "teacher_a1b", project)

    assert first.status_code == second.status_code == 201
    assert third.status_code == 409
    assert "越秀区" in third.json()["detail"] and "2" in third.json()["detail"]
    assert "名额已满" in third.json()["detail"]
    assert Enrolment.objects.filter(project=project).count() == 2


def test_quota_full_is_shown_on_the_project_page(world, window):
    add_persona(world, "teacher_a1b", RoleKind.TEACHER, world.school_a1)
    project = make_project(world, enrolment=True, quotas={world.district_a: 1})
    _enrol(world, "teacher_a1", project)

    page = world.client("teacher_a1b").post(f"/hours/projects/{project.pk}/enrol/", follow=True).content.decode()

    assert "越秀区的名额已满（共 1 个）" in page
    assert not Enrolment.objects.filter(project=project, teacher=world.teachers["teacher_a1b"]).exists()


def test_a_rejected_application_gives_its_place_back(world, window):
    add_persona(world, "teacher_a1b", RoleKind.TEACHER, world.school_a1)
    project = make_project(world, enrolment=True, quotas={world.district_a: 1})
    first_id = _enrol(world, "teacher_a1", project).json()["id"]
    refused_while_full = _enrol(world, "teacher_a1b", project)
    world.api("principal_a1").post(f"/api/v1/enrolments/{first_id}/reject/", {"reason": "另有安排"}, format="json")

    after_rejection = _enrol(world, "teacher_a1b", project)

    assert refused_while_full.status_code == 409
    assert after_rejection.status_code == 201


def test_a_district_without_a_quota_is_refused_when_the_project_has_quotas(world, window):
    project = make_project(world, enrolment=True, quotas={world.district_a: 5})

    response = _enrol(world, "teacher_b1", project)

    assert response.status_code == 409
    assert "海珠区" in response.json()["detail"] and "没有" in response.json()["detail"]
    assert not Enrolment.objects.filter(project=project).exists()


def test_a_project_without_quotas_takes_every_applicant(world, window):
    for n in range(3):
        add_persona(world, f"teacher_extra{n}", RoleKind.TEACHER, world.school_a1)
    project = make_project(world, enrolment=True)

    codes = [
        _enrol(world, p, project).status_code
        for p in ("teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1", "teacher_extra0", "teacher_extra1", "teacher_extra2")
    ]

    assert codes == [201] * 7
    assert Enrolment.objects.filter(project=project).count() == 7


@pytest.mark.parametrize(
    "from_state, approver",
    [
        (EnrolmentState.APPLIED, "principal_a1"),
        (EnrolmentState.PRINCIPAL_APPROVED, "district_a_admin"),
        (EnrolmentState.DISTRICT_APPROVED, "city_admin"),
    ],
)
def test_each_approval_level_stops_at_the_districts_quota(world, window, from_state, approver):
    # Two applied while the district had two places; the organiser then cut the quota to one.
    add_persona(world, "teacher_a1b", RoleKind.TEACHER, world.school_a1)
    project = make_project(world, enrolment=True, quotas={world.district_a: 2})
    ids = [_enrol(world, p, project).json()["id"] for p in ("teacher_a1", "teacher_a1b")]
    for enrolment_id in ids:
        _bring_to(world, enrolment_id, from_state)
    _set_quota(world, project, world.district_a, 1)

    first = _approve(world, approver, ids[0])
    second = _approve(world, approver, ids[1])

    assert first.status_code == 200
    assert second.status_code == 409
    assert "越秀区的名额已满（共 1 个）" in second.json()["detail"]
    assert _state(ids[1]) == from_state


def test_the_quota_cannot_be_cut_below_the_enrolments_already_finalised(world, window):
    project = make_project(world, enrolment=True, quotas={world.district_a: 2})
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]
    _bring_to(world, enrolment_id, EnrolmentState.FINAL)

    response = world.api("city_admin").patch(
        f"/api/v1/projects/{project.pk}/", {"quotas": [{"district": world.district_a.pk, "quota": 0}]}, format="json"
    )

    assert response.status_code == 400 and "quotas" in response.json()
    assert project.quotas.get().quota == 2


# --- the enrolment window ------------------------------------------------------------------------------


def test_enrolling_before_the_window_opens_names_the_opening_date(world, window):
    project = make_project(world, enrolment=True)
    window.move_to(at(2026, 1, 31, 23, 0))

    response = _enrol(world, "teacher_a1", project)

    assert response.status_code == 409 and "2026-02-01" in response.json()["detail"]
    assert not Enrolment.objects.exists()


def test_enrolling_on_the_last_evening_of_the_window_works(world, window):
    project = make_project(world, enrolment=True)
    window.move_to(at(2026, 2, 20, 23, 59))

    assert _enrol(world, "teacher_a1", project).status_code == 201


def test_enrolling_after_the_window_closed_names_the_closing_date(world, window):
    project = make_project(world, enrolment=True)
    window.move_to(at(2026, 2, 21, 0, 1))

    response = _enrol(world, "teacher_a1", project)
    page = world.client("teacher_a2").post(f"/hours/projects/{project.pk}/enrol/", follow=True).content.decode()

    assert response.status_code == 409 and "2026-02-20" in response.json()["detail"]
    assert "2026-02-20" in page
    assert not Enrolment.objects.exists()


def test_an_unpublished_project_cannot_be_enrolled_in(world, window):
    project = make_project(world, enrolment=True, publish=False)

    assert _enrol(world, "teacher_a1", project).status_code == 404


# --- who may approve --------------------------------------------------------------------------------------


def test_district_admin_of_another_district_gets_404_and_the_enrolment_stays(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]
    _bring_to(world, enrolment_id, EnrolmentState.PRINCIPAL_APPROVED)

    api = _approve(world, "district_b_admin", enrolment_id)
    reject = world.api("district_b_admin").post(f"/api/v1/enrolments/{enrolment_id}/reject/", {"reason": "x"}, format="json")
    page = world.client("district_b_admin").post(
        "/hours/enrolments/action/", {"action": "approve", "ids": [enrolment_id]}, follow=True
    )

    assert api.status_code == 404 and reject.status_code == 404
    assert "未找到" in page.content.decode()
    assert _state(enrolment_id) == EnrolmentState.PRINCIPAL_APPROVED


def test_principal_of_another_school_gets_404_and_the_enrolment_stays(world, window):
    add_persona(world, "principal_a2", RoleKind.PRINCIPAL, world.school_a2)
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    api = _approve(world, "principal_a2", enrolment_id)
    page = world.client("principal_a2").post(
        "/hours/enrolments/action/", {"action": "approve", "ids": [enrolment_id]}, follow=True
    )

    assert api.status_code == 404
    assert "未找到" in page.content.decode()
    assert _state(enrolment_id) == EnrolmentState.APPLIED


def test_principal_of_another_school_approves_their_own_teacher(world, window):
    add_persona(world, "principal_a2", RoleKind.PRINCIPAL, world.school_a2)
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a2", project).json()["id"]

    response = _approve(world, "principal_a2", enrolment_id)

    assert response.status_code == 200 and response.json()["state"] == "principal_approved"


@pytest.mark.parametrize("persona", ["teacher_a1", "school_a1_admin"])
def test_a_teacher_or_a_school_admin_cannot_approve(world, window, persona):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    response = _approve(world, persona, enrolment_id)

    assert response.status_code == 403
    assert _state(enrolment_id) == EnrolmentState.APPLIED


def test_a_teacher_cannot_approve_on_the_page(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    world.client("teacher_a1").post("/hours/enrolments/action/", {"action": "approve", "ids": [enrolment_id]}, follow=True)

    assert _state(enrolment_id) == EnrolmentState.APPLIED


def test_a_teacher_cannot_withdraw_someone_elses_enrolment(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    response = world.api("teacher_a2").post(f"/api/v1/enrolments/{enrolment_id}/withdraw/")

    assert response.status_code == 404
    assert _state(enrolment_id) == EnrolmentState.APPLIED


@pytest.mark.parametrize("target", ["//evil.example/phish", "https://evil.example/", "/\\evil.example"])
def test_approving_on_the_page_never_sends_the_reviewer_to_another_site(world, window, target):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    response = world.client("principal_a1").post(
        "/hours/enrolments/action/", {"action": "approve", "ids": [enrolment_id], "next": target}
    )

    assert response.status_code == 302 and response["Location"] == "/hours/enrolments/"
    assert _state(enrolment_id) == EnrolmentState.PRINCIPAL_APPROVED


def test_approving_on_the_page_returns_to_the_page_it_came_from(world, window):
    project = make_project(world, enrolment=True)
    enrolment_id = _enrol(world, "teacher_a1", project).json()["id"]

    response = world.client("principal_a1").post(
        "/hours/enrolments/action/", {"action": "approve", "ids": [enrolment_id], "next": f"/hours/projects/{project.pk}/"}
    )

    assert response["Location"] == f"/hours/projects/{project.pk}/"
