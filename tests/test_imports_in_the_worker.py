"""With a broker configured, no import reads a cell of its Excel file in the web request: the
upload checks the file's shape and queues the dry run, the confirm queues the import, and a
worker reads the file (issue 15). Here the Excel reader is made to fail inside the requests,
the queued tasks run afterwards as the worker would run them, and the results are the same
as without a broker."""

from __future__ import annotations

import datetime

import pytest
import time_machine

import cpd.xlsx
from accounts import roster_import
from accounts.models import RosterImport, Teacher
from hours.models import LedgerEntry, Source
from points import imports as points_imports
from points.models import EarningRule, PointsImport
from training import imports as hours_imports
from training.models import HoursImport

from .accounts.test_roster_import import make_xlsx, teacher_row
from .hours.projects_kit import make_project, xlsx_upload


class Worker:
    """Collects what the web request queues; `run()` then runs it as a worker would."""

    def __init__(self):
        self.queue = []

    def enqueue(self, name, *args, on_failure=None):
        self.queue.append((name, args))

    def run(self):
        from django.utils.module_loading import autodiscover_modules

        from cpd.celery import app

        autodiscover_modules("tasks")
        queued, self.queue = self.queue, []
        for name, args in queued:
            app.tasks[name].apply(args=args, throw=True)
        return len(queued)


class ReaderInTheWebRequest(AssertionError):
    pass


@pytest.fixture
def broker(settings, monkeypatch, tmp_path):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    worker = Worker()
    for module in (roster_import, hours_imports, points_imports):
        monkeypatch.setattr(module, "enqueue", worker.enqueue)
    real_reader = cpd.xlsx.CalamineWorkbook

    class Refuse:
        @staticmethod
        def from_filelike(*args, **kwargs):
            raise ReaderInTheWebRequest("the Excel reader ran in the web request")

    def run_worker():
        monkeypatch.setattr(cpd.xlsx, "CalamineWorkbook", real_reader)
        try:
            return worker.run()
        finally:
            monkeypatch.setattr(cpd.xlsx, "CalamineWorkbook", Refuse)

    monkeypatch.setattr(cpd.xlsx, "CalamineWorkbook", Refuse)
    worker.run_worker = run_worker
    return worker


def test_the_roster_import_is_read_by_the_worker(world, broker):
    api = world.api("school_a1_admin")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = api.post(
        "/api/v1/roster-imports/",
        {"file": SimpleUploadedFile("名册.xlsx", make_xlsx([teacher_row(i) for i in range(3)]))},
        format="multipart",
    )
    assert upload.status_code == 201 and upload.json()["status"] == "validating"

    assert broker.run_worker() == 1
    record = RosterImport.objects.get()
    assert (record.status, record.total_rows, record.new_rows) == ("validated", 3, 3)

    confirmed = api.post(f"/api/v1/roster-imports/{record.pk}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "importing"
    assert broker.run_worker() == 1
    record.refresh_from_db()
    assert (record.status, record.imported_count) == ("imported", 3)
    assert Teacher.objects.filter(name__startswith="导入教师").count() == 3


def test_a_roster_file_with_a_wrong_header_fails_in_the_worker_with_the_message(world, broker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = world.api("school_a1_admin").post(
        "/api/v1/roster-imports/", {"file": SimpleUploadedFile("名册.xlsx", make_xlsx([], headers=["姓名"]))}, format="multipart"
    )
    broker.run_worker()

    record = RosterImport.objects.get(pk=upload.json()["id"])
    assert record.status == "failed" and "表头缺少列" in record.errors[0]["message"]


@pytest.fixture
def in_2026():
    tz = datetime.timezone(datetime.timedelta(hours=8))
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=tz), tick=False):
        yield


def test_the_registration_import_is_read_by_the_worker(world, broker, in_2026):
    project = make_project(world, "school_a1_admin", title="校本研修", kind="school_based")
    teacher = world.teachers["teacher_a1"]
    api = world.api("school_a1_admin")

    upload = api.post(
        "/api/v1/hours-imports/",
        {
            "kind": "registration",
            "project": project.pk,
            "file": xlsx_upload(hours_imports.REGISTRATION_HEADERS, [[teacher.id_number, teacher.name, 12, "2026-03-02"]]),
        },
        format="multipart",
    )
    assert upload.status_code == 201 and upload.json()["status"] == "validating"
    broker.run_worker()
    assert HoursImport.objects.get().status == "validated"

    assert api.post(f"/api/v1/hours-imports/{upload.json()['id']}/confirm/").json()["status"] == "importing"
    broker.run_worker()
    assert HoursImport.objects.get().status == "imported"
    assert LedgerEntry.objects.filter(teacher=teacher, source=Source.REGISTRATION).count() == 1


def test_the_provincial_import_is_read_by_the_worker(world, broker, in_2026):
    teacher = world.teachers["teacher_a1"]
    upload = world.api("city_admin").post(
        "/api/v1/hours-imports/",
        {
            "kind": "provincial",
            "file": xlsx_upload(hours_imports.PROVINCIAL_HEADERS, [[teacher.id_number, teacher.name, "师德师风", 6, 2026]]),
        },
        format="multipart",
    )
    assert upload.status_code == 201 and upload.json()["status"] == "validating"
    broker.run_worker()
    record = HoursImport.objects.get()
    assert (record.status, record.new_rows) == ("validated", 1)


def test_the_points_import_is_read_by_the_worker(world, broker):
    EarningRule.objects.create(action_code="post", name="发表研修帖子", points=5, daily_limit=10)
    teacher = world.teachers["teacher_a1"]
    client = world.client("city_admin")
    today = datetime.date.today().isoformat()

    client.post("/points/import/", {"file": xlsx_upload(points_imports.HEADERS, [["EV-1", teacher.id_number, "post", today]])})
    record = PointsImport.objects.get()
    assert record.status == "validating"
    broker.run_worker()
    record.refresh_from_db()
    assert (record.status, record.total_rows) == ("validated", 1)

    client.post(f"/points/import/{record.pk}/")
    record.refresh_from_db()
    assert record.status == "importing"
    broker.run_worker()
    record.refresh_from_db()
    assert (record.status, record.accepted) == ("imported", 1)
