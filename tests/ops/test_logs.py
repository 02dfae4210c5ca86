"""Logs are JSON lines with a request id, carried into tasks; no ID number or teacher name in any of them.

The flows below are the ones that handle personal data (roster import with a bad row, declaration
review, a verification run, an export, a failed login, bad input, a failing broker and database),
captured through the configured handler at INFO (production logs at WARNING: stricter here).
"""

from __future__ import annotations

import io
import json
import logging
import os

import pytest
from celery import signals
from django.conf import settings
from django.test import Client

from accounts.models import Teacher
from cpd.logs import HEADER, REQUEST_ID, MaskedJsonFormatter, RequestIdFilter, mask_id_numbers

from ..accounts.test_roster_import import make_xlsx, teacher_row, upload_api
from ..hours.conftest import declare, in_year, private_media  # noqa: F401  (fixtures)
from ..verification.conftest import give


@pytest.fixture
def log_lines():
    """Every log line written while the test runs, through the project's own formatter and filter."""
    formatter = settings.LOGGING["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskedJsonFormatter(formatter["fmt"], rename_fields=formatter["rename_fields"], json_ensure_ascii=False))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_id_numbers_are_masked_in_any_text():
    assert mask_id_numbers("id 44010419800101123X ok") == "id 440*************3X ok"
    assert mask_id_numbers("old 440104800101123 ok") == "old 440**********23 ok"
    assert mask_id_numbers("run 12345 rows 2026") == "run 12345 rows 2026"
    assert mask_id_numbers('{"took": 0.046898187999991}') == '{"took": 0.046898187999991}'


def test_each_request_gets_an_id_echoed_in_the_response_and_a_proxys_id_is_kept(db):
    made = Client().get("/health/live/")
    kept = Client().get("/health/live/", HTTP_X_REQUEST_ID="lb-7f3a")
    forged = Client().get("/health/live/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert len(made["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "lb-7f3a"
    assert forged["X-Request-ID"] != "bad id\nwith newline" and len(forged["X-Request-ID"]) == 32


def test_a_task_queued_by_a_request_logs_with_the_requests_id(db):
    """The id travels in the task message's headers and is restored in the worker before the task runs."""
    headers: dict = {}
    token = REQUEST_ID.set("req-abc")
    try:
        signals.before_task_publish.send(sender="verification.tasks.build_export", headers=headers, body=None)
    finally:
        REQUEST_ID.reset(token)
    assert headers[HEADER] == "req-abc"

    class Task:
        class request:
            cpd_request_id = "req-abc"

    signals.task_prerun.send(sender=Task, task=Task, task_id="t1")
    assert REQUEST_ID.get() == "req-abc"
    signals.task_postrun.send(sender=Task, task=Task, task_id="t1")
    assert REQUEST_ID.get() == "-"


@pytest.mark.redis
def test_a_real_worker_logs_a_task_with_the_id_of_the_request_that_queued_it(db):
    from celery.contrib.testing.worker import start_worker

    from cpd.celery import app

    from .conftest import forget_celery_connections

    @app.task(name="cpd.tests.request_id_seen")
    def request_id_seen() -> str:
        return REQUEST_ID.get()

    url = os.environ["REDIS_URL"]
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    forget_celery_connections()
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    try:
        with start_worker(app, perform_ping_check=False):
            token = REQUEST_ID.set("req-from-web")
            try:
                result = request_id_seen.delay()
            finally:
                REQUEST_ID.reset(token)
            assert result.get(timeout=20) == "req-from-web"
    finally:
        forget_celery_connections()
        app.conf.update(saved)


def test_no_id_number_or_teacher_name_in_any_log_line_of_the_personal_data_flows(
    world,
    in_year,  # noqa: F811
    private_media,  # noqa: F811
    log_lines,
):
    # Roster import: three good rows and one with a bad ID number, then the good file confirmed.
    school = world.api("school_a1_admin")
    bad = upload_api(school, make_xlsx([teacher_row(1), teacher_row(2, 身份证号="44010419800101123Y")])).json()
    good = upload_api(school, make_xlsx([teacher_row(i) for i in range(3, 6)])).json()
    assert school.post(f"/api/v1/roster-imports/{good['id']}/confirm/").status_code == 200
    assert bad["status"] == "failed"
    # Teacher search by name and ID number (in the query string: exactly what must not reach the logs).
    teacher = world.teachers["teacher_a1"]
    school.get("/api/v1/teachers/", {"q": teacher.id_number})
    school.get("/api/v1/teachers/", {"q": teacher.name})
    # A declaration reviewed at both levels, and one approved twice (409).
    declaration = declare(world, "teacher_a1", state="submitted")
    assert school.post(f"/api/v1/declarations/{declaration.pk}/approve/").status_code == 200
    district = world.api("district_a_admin")
    assert district.post(f"/api/v1/declarations/{declaration.pk}/approve/").status_code == 200
    assert district.post(f"/api/v1/declarations/{declaration.pk}/approve/").status_code == 409
    # A verification run and the provincial export (names and ID numbers in every row).
    for persona in ("teacher_a1", "teacher_a2", "teacher_b1"):
        give(world.teachers[persona], 2025, public=30, professional=42, elective=18)
    city = world.api("city_admin")
    assert city.post("/api/v1/verification-runs/", {"year": 2025}, format="json").status_code == 201
    assert city.post("/api/v1/exports/", {"kind": "provincial_csv", "year": 2025}, format="json").status_code == 201
    # Bad input and a failed login with a teacher's ID number as the username.
    city.post("/api/v1/verification-runs/", {"year": "abc"}, format="json")
    Client().post("/api/v1/auth/token/", {"username": teacher.id_number, "password": "wrong"})
    Client().post("/login/", {"username": teacher.name, "password": "wrong"})
    # A page that fails (404 with the ID number in the path).
    world.client("school_a1_admin").get(f"/roster/teachers/{teacher.id_number}/")

    lines = log_lines()
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert lines, "the flows log (at least the warnings for 4xx responses)"
    assert all(set(line) >= {"time", "level", "logger", "request_id", "message"} for line in lines)
    # Every line a request or its tasks wrote carries the request's id (django.request's included).
    assert all(line["request_id"] != "-" for line in lines if line["logger"] in ("django.request", "celery.app.trace"))
    for t in Teacher.objects.all():
        assert t.id_number not in text, f"ID number of {t.pk} in the logs"
        assert t.name not in text, f"name of teacher {t.pk} in the logs"
