"""A provider's project without enrolment (无需报名): the provider registers the city's teachers of the
project's stage, by ticking them on the project page (searchable) or by uploading a list."""

from __future__ import annotations

import pytest

from accounts.models import TeacherStatus
from hours.models import LedgerEntry, Source
from training.imports import REGISTRATION_HEADERS

from ..factories import TeacherFactory
from .projects_kit import make_project, xlsx_upload


def _register(world, project, teachers):
    return world.api("provider").post(
        f"/api/v1/projects/{project.pk}/register/",
        {"rows": [{"teacher": t.pk, "hours": "12"} for t in teachers]},
        format="json",
    )


def _registered(project):
    return set(LedgerEntry.objects.filter(project=project, source=Source.REGISTRATION).values_list("teacher_id", flat=True))


def test_a_provider_registers_any_teacher_of_the_city_for_a_project_without_enrolment(world, in_year):
    project = make_project(world, "provider")
    t = world.teachers

    response = _register(world, project, [t["teacher_a1"], t["teacher_b1"], t["teacher_c1"]])

    assert response.status_code == 200, response.json()
    assert _registered(project) == {t["teacher_a1"].pk, t["teacher_b1"].pk, t["teacher_c1"].pk}


def test_with_enrolment_a_provider_registers_only_teachers_finally_enrolled(world, in_year):
    project = make_project(world, "provider", enrolment=True)

    response = _register(world, project, [world.teachers["teacher_a1"]])

    assert response.status_code == 400
    assert str(world.teachers["teacher_a1"].pk) in " ".join(response.json()["teachers"])
    assert not _registered(project)


def test_a_project_for_one_stage_takes_only_that_stages_active_teachers(world, in_year):
    project = make_project(world, "provider", target_stage="primary")
    primary = TeacherFactory(school=world.school_a1, stage="primary")
    junior = TeacherFactory(school=world.school_a2, stage="junior")
    retired = TeacherFactory(school=world.school_a1, stage="primary", status=TeacherStatus.RETIRED)

    assert _register(world, project, [junior]).status_code == 400
    assert _register(world, project, [retired]).status_code == 400
    assert _register(world, project, [primary]).status_code == 200
    assert _registered(project) == {primary.pk}


def test_the_provider_ticks_teachers_found_by_search_on_the_project_page(world, in_year):
    project = make_project(world, "provider")
    client = world.client("provider")
    a1, b1 = world.teachers["teacher_a1"], world.teachers["teacher_b1"]

    page = client.get(f"/hours/projects/{project.pk}/", {"q": "南华"}).content.decode()
    assert f'data-testid="tick-{b1.pk}"' in page
    assert f'data-testid="tick-{a1.pk}"' not in page  # 育才小学's teacher does not match "南华"

    client.post(f"/hours/projects/{project.pk}/register/", {"teachers": [b1.pk], f"hours_{b1.pk}": "12"})

    assert _registered(project) == {b1.pk}
    listed = client.get(f"/hours/projects/{project.pk}/").content.decode()
    assert 'data-testid="registered-count">1<' in listed


def test_the_provider_uploads_a_list_for_a_project_without_enrolment(world, in_year, private_media):
    project = make_project(world, "provider")
    teachers = [world.teachers["teacher_a2"], world.teachers["teacher_c1"]]
    client = world.client("provider")

    upload = client.post(
        f"/hours/projects/{project.pk}/import/",
        {"file": xlsx_upload(REGISTRATION_HEADERS, [[t.id_number, t.name, 12, "2026-03-02"] for t in teachers])},
    )
    assert upload.status_code == 302
    detail = client.get(upload["Location"]).content.decode()
    assert "不在本单位的登记范围内" not in detail
    confirm = world.api("provider").post(f"/api/v1/hours-imports/{upload['Location'].rstrip('/').split('/')[-1]}/confirm/")

    assert confirm.status_code == 200, confirm.json()
    assert _registered(project) == {t.pk for t in teachers}


@pytest.mark.parametrize("enrolment", [True, False])
def test_the_provider_sees_who_enrolled(world, in_year, enrolment):
    from training import projects

    project = make_project(world, "provider", enrolment=enrolment)
    if enrolment:
        in_year.move_to("2026-02-10 10:00+08:00")
        projects.enrolment_apply(role=world.roles["teacher_b1"], actor=world.users["teacher_b1"], project=project)

    page = world.client("provider").get(f"/hours/projects/{project.pk}/").content.decode()

    if enrolment:
        assert 'data-testid="enrolled-count">1<' in page and "南华小学老师" in page
    else:
        assert 'data-testid="enrolled"' not in page and 'data-testid="candidate-search"' in page
