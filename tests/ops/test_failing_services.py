"""With the task queue or the database down, every job-starting request answers a prompt 503 in the
user's language, and leaves nothing half-started: what could not be queued is marked failed (or
handed back) and starts normally once the service is back."""

from __future__ import annotations

import datetime
import time

import pytest
import time_machine

from hours.models import LedgerEntry
from training.imports import REGISTRATION_HEADERS
from training.models import HoursImport, HoursImportStatus
from verification.models import ExportJob, ExportStatus, RunStatus, VerificationRun

from ..hours.projects_kit import make_project, xlsx_upload
from ..verification.conftest import give

PROMPT = 5.0  # seconds a user may wait for the answer
QUEUE_DOWN_ZH = "任务队列暂时不可用，任务没有开始。请稍后重试。"
QUEUE_DOWN_EN = "The task queue is unavailable right now; the job was not started. Please try again later."


def page_client(world, persona):
    """A browser: it sees the error page the server renders (the test client would re-raise instead)."""
    client = world.client(persona)
    client.raise_request_exception = False
    return client


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.fixture
def year_with_hours(world):
    give(world.teachers["teacher_a1"], 2025, public=30, professional=42, elective=18)
    return 2025


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }


# --- verification runs -------------------------------------------------------------------------


def test_run_start_with_the_broker_down_answers_503_promptly_and_can_start_again(committed_db, world, year_with_hours, broker):
    api = world.api("city_admin")
    broker.down()
    response, seconds = timed(lambda: api.post("/api/v1/verification-runs/", {"year": 2025}, format="json"))
    assert response.status_code == 503, response.json()
    assert response.json() == {"detail": QUEUE_DOWN_ZH}
    assert response["Retry-After"] == "30"
    assert seconds < PROMPT
    failed = VerificationRun.objects.get()
    assert failed.status == RunStatus.FAILED and failed.error == QUEUE_DOWN_ZH and failed.finished_at

    broker.up()
    again = api.post("/api/v1/verification-runs/", {"year": 2025}, format="json")
    assert again.status_code == 201, again.json()
    assert again.json()["status"] == RunStatus.DONE
    assert VerificationRun.objects.filter(status=RunStatus.DONE).count() == 1


def test_the_runs_page_with_the_broker_down_answers_a_503_page_in_english_for_english_users(
    committed_db, world, year_with_hours, broker
):
    client = page_client(world, "city_admin")
    client.cookies["django_language"] = "en"
    broker.down()
    response, seconds = timed(lambda: client.post("/verification/runs/", {"year": 2025}))
    assert response.status_code == 503 and seconds < PROMPT
    html = response.content.decode()
    assert "Service temporarily unavailable" in html and QUEUE_DOWN_EN in html
    assert VerificationRun.objects.get().status == RunStatus.FAILED


def test_the_runs_page_with_the_broker_down_answers_in_chinese_by_default(committed_db, world, year_with_hours, broker):
    broker.down()
    response = page_client(world, "city_admin").post("/verification/runs/", {"year": 2025})
    assert response.status_code == 503
    assert "服务暂时不可用" in response.content.decode() and QUEUE_DOWN_ZH in response.content.decode()


# --- exports -----------------------------------------------------------------------------------


def test_export_request_with_the_broker_down_fails_the_job_and_a_new_request_builds(
    committed_db, world, year_with_hours, broker, media
):
    api = world.api("city_admin")
    broker.down()
    response, seconds = timed(lambda: api.post("/api/v1/exports/", {"kind": "statistics", "year": 2025}, format="json"))
    assert response.status_code == 503 and seconds < PROMPT
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.FAILED and job.error == QUEUE_DOWN_ZH

    broker.up()
    again = api.post("/api/v1/exports/", {"kind": "statistics", "year": 2025}, format="json")
    assert again.status_code == 201, again.json()
    assert ExportJob.objects.filter(status=ExportStatus.READY).count() == 1
    assert not ExportJob.objects.filter(status=ExportStatus.PENDING).exists()


def test_export_page_with_the_broker_down_answers_503(committed_db, world, year_with_hours, broker, media):
    broker.down()
    response = page_client(world, "city_admin").post("/verification/exports/", {"kind": "results", "year": 2025})
    assert response.status_code == 503
    assert ExportJob.objects.get().status == ExportStatus.FAILED


# --- hours imports (upload = dry run, confirm = import) ------------------------------------------


@pytest.fixture
def registration(committed_db, world, media):
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))):
        project = make_project(world, "school_a1_admin", title="校本研修", kind="school_based")
        teacher = world.teachers["teacher_a1"]
        yield project, [[teacher.id_number, teacher.name, 12, "2026-03-02"]]


def _upload(world, project, rows):
    return world.api("school_a1_admin").post(
        "/api/v1/hours-imports/",
        {"kind": "registration", "project": project.pk, "file": xlsx_upload(REGISTRATION_HEADERS, rows)},
        format="multipart",
    )


def test_import_upload_with_the_broker_down_fails_the_upload_and_a_new_upload_validates(world, registration, broker):
    project, rows = registration
    broker.down()
    response, seconds = timed(lambda: _upload(world, project, rows))
    assert response.status_code == 503 and seconds < PROMPT
    record = HoursImport.objects.get()
    assert record.status == HoursImportStatus.FAILED
    assert record.errors == [{"row": 0, "column": "", "message": QUEUE_DOWN_ZH}]

    broker.up()
    again = _upload(world, project, rows)
    assert again.status_code == 201, again.json()
    assert again.json()["status"] == HoursImportStatus.VALIDATED


def test_import_confirm_with_the_broker_down_hands_the_file_back_and_confirming_again_imports_once(world, registration, broker):
    project, rows = registration
    upload = _upload(world, project, rows).json()
    confirm = f"/api/v1/hours-imports/{upload['id']}/confirm/"
    broker.down()
    response, seconds = timed(lambda: world.api("school_a1_admin").post(confirm))
    assert response.status_code == 503 and seconds < PROMPT
    assert HoursImport.objects.get().status == HoursImportStatus.VALIDATED
    assert not LedgerEntry.objects.filter(project=project).exists()

    broker.up()
    again = world.api("school_a1_admin").post(confirm)
    assert again.status_code in (200, 201, 202), again.json()
    assert HoursImport.objects.get().status == HoursImportStatus.IMPORTED
    assert LedgerEntry.objects.filter(project=project).count() == 1


# --- the database ------------------------------------------------------------------------------


def test_with_the_database_down_pages_and_api_answer_a_prompt_503_and_recover(world, database):
    client, api = page_client(world, "city_admin"), world.api("city_admin")
    database.down()
    page, page_seconds = timed(lambda: client.get("/"))
    listing, api_seconds = timed(lambda: api.get("/api/v1/verification-runs/"))
    start = api.post("/api/v1/verification-runs/", {"year": 2025}, format="json")
    assert page.status_code == 503 and "数据库暂时不可用，请稍后重试。" in page.content.decode()
    assert listing.status_code == 503 and listing.json() == {"detail": "数据库暂时不可用，请稍后重试。"}
    assert start.status_code == 503
    assert max(page_seconds, api_seconds) < PROMPT

    database.up()
    assert client.get("/").status_code in (200, 302)
    assert api.get("/api/v1/verification-runs/").status_code == 200
    assert not VerificationRun.objects.exists()


# --- a worker killed mid-job: the task is delivered again and finishes once ---------------------


def test_an_import_whose_worker_died_is_finished_by_the_redelivered_task_once(world, registration):
    from training.tasks import hours_import_run

    project, rows = registration
    upload = _upload(world, project, rows).json()
    # What a worker killed inside the import leaves: the claim made by the confirm, its transaction rolled back.
    HoursImport.objects.filter(pk=upload["id"]).update(status=HoursImportStatus.IMPORTING)
    actor = world.users["school_a1_admin"].pk

    assert hours_import_run(upload["id"], actor) == HoursImportStatus.IMPORTED
    assert hours_import_run(upload["id"], actor) == HoursImportStatus.IMPORTED  # delivered once more: nothing new
    assert LedgerEntry.objects.filter(project=project).count() == 1


def test_an_export_whose_worker_died_is_built_by_the_redelivered_task(world, year_with_hours, media):
    from verification.tasks import build_export

    api = world.api("city_admin")
    assert api.post("/api/v1/verification-runs/", {"year": 2025}, format="json").status_code == 201
    role = world.roles["city_admin"]
    # What a worker killed while writing the file leaves: the job pending, no file.
    job = ExportJob.objects.create(
        kind="results", params={"year": 2025, "school_id": None, "role_id": role.pk}, organisation=role.organisation
    )

    assert build_export(job.pk) == ExportStatus.READY
    assert build_export(job.pk) == ExportStatus.READY  # delivered once more: the same file, not rebuilt
    job.refresh_from_db()
    assert job.file and api.get(f"/api/v1/exports/{job.pk}/download/").status_code == 200


# --- roster and points imports ----------------------------------------------------------------


def test_roster_import_with_the_broker_down_fails_the_upload_or_hands_the_confirm_back(committed_db, world, broker, media):
    from accounts.models import RosterImport, RosterImportStatus, Teacher

    from ..accounts.test_roster_import import make_xlsx, teacher_row, upload_api

    api = world.api("school_a1_admin")
    rows = [teacher_row(i) for i in range(3)]
    broker.down()
    response, seconds = timed(lambda: upload_api(api, make_xlsx(rows)))
    assert response.status_code == 503 and seconds < PROMPT
    failed = RosterImport.objects.get()
    assert failed.status == RosterImportStatus.FAILED and failed.errors[0]["message"] == QUEUE_DOWN_ZH

    broker.up()
    record = upload_api(api, make_xlsx(rows)).json()
    assert record["status"] == RosterImportStatus.VALIDATED
    before = Teacher.objects.count()
    broker.down()
    confirm, seconds = timed(lambda: api.post(f"/api/v1/roster-imports/{record['id']}/confirm/"))
    assert confirm.status_code == 503 and seconds < PROMPT
    assert RosterImport.objects.get(pk=record["id"]).status == RosterImportStatus.VALIDATED
    assert Teacher.objects.count() == before

    broker.up()
    assert api.post(f"/api/v1/roster-imports/{record['id']}/confirm/").json()["status"] == RosterImportStatus.IMPORTED
    assert Teacher.objects.count() == before + 3


def test_points_import_with_the_broker_down_fails_the_upload_or_hands_the_confirm_back(committed_db, world, broker, media):
    from points.imports import HEADERS
    from points.models import PointsImport

    client = page_client(world, "city_admin")
    content = xlsx_upload(HEADERS, [["IM-1", world.teachers["teacher_a1"].id_number, "award", "2026-06-01"]], name="积分.xlsx")
    broker.down()
    response, seconds = timed(lambda: client.post("/points/import/", {"file": content}))
    assert response.status_code == 503 and seconds < PROMPT
    record = PointsImport.objects.get()
    assert record.status == "failed" and record.errors[0]["message"] == QUEUE_DOWN_ZH

    PointsImport.objects.filter(pk=record.pk).update(status="validated", errors=[])
    broker.down()
    confirm, seconds = timed(lambda: client.post(f"/points/import/{record.pk}/"))
    assert confirm.status_code == 503 and seconds < PROMPT
    assert PointsImport.objects.get(pk=record.pk).status == "validated"  # can be confirmed again
