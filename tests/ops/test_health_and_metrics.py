"""Health endpoints for the load balancer and the orchestrator, and the Prometheus metrics."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from cpd.health import BEAT_HEARTBEAT
from hours.models import DeclarationState

TOKEN = "ops-token-for-tests-0123456789"


@pytest.fixture
def ops_token(settings):
    settings.CPD_OPS_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def beat_ticked(ago: datetime.timedelta) -> None:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name=BEAT_HEARTBEAT,
        defaults={"task": "cpd.beat_heartbeat", "interval": every_minute, "last_run_at": timezone.now() - ago},
    )


@pytest.fixture
def with_broker(broker, settings, tmp_path):
    """A deployment with a broker (readiness then checks it and beat); storage in a throw-away folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return broker


def ready(client=None, **headers):
    return (client or Client()).get("/health/ready/", **headers)


def test_liveness_answers_without_the_database(database):
    database.down()
    response = Client().get("/health/live/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_is_ok_and_shows_details_only_to_operators(db, settings, tmp_path, ops_token):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    anonymous = ready()
    assert anonymous.status_code == 200 and anonymous.json() == {"status": "ok"}
    detailed = ready(**ops_token).json()
    assert detailed["checks"] == {
        "Database": "ok",
        "Migrations": "ok",
        "Broker": "ok",
        "Storage": "ok",
        "BeatTick": "ok",
    }


def test_readiness_fails_while_the_database_is_down_and_recovers(world, database, settings, tmp_path, ops_token):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    database.down()
    down = ready(**ops_token)
    assert down.status_code == 503 and down.json()["status"] == "unavailable"
    assert down.json()["checks"]["Database"] != "ok"
    anonymous = ready()
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "unavailable"}  # no detail
    database.up()
    assert ready(**ops_token).status_code == 200


def test_readiness_fails_while_the_broker_is_down_and_recovers(committed_db, with_broker, ops_token):
    beat_ticked(datetime.timedelta(seconds=30))
    with_broker.down()
    down = ready(**ops_token)
    assert down.status_code == 503
    assert down.json()["checks"]["Broker"].endswith("broker unavailable: OperationalError")
    assert down.json()["checks"]["Database"] == "ok"
    with_broker.up()
    assert ready(**ops_token).status_code == 200


@pytest.mark.redis
def test_readiness_with_a_real_broker_needs_a_recent_beat_tick(committed_db, with_broker, ops_token, settings):
    import os

    from cpd.celery import app

    from .conftest import forget_celery_connections

    forget_celery_connections()
    app.conf.update(broker_url=os.environ["REDIS_URL"], result_backend=os.environ["REDIS_URL"])
    settings.CELERY_TASK_ALWAYS_EAGER = False
    beat_ticked(datetime.timedelta(hours=1))
    stale = ready(**ops_token).json()
    assert stale["checks"]["Broker"] == "ok" and stale["checks"]["BeatTick"].startswith("Unavailable: no beat tick")
    beat_ticked(datetime.timedelta(seconds=30))
    assert ready(**ops_token).json() == {"status": "ok", "checks": dict.fromkeys(stale["checks"], "ok")}


def test_readiness_fails_without_a_recent_beat_tick(committed_db, with_broker, ops_token, settings, monkeypatch):
    from cpd import health

    monkeypatch.setattr(health.Broker, "run", lambda self: None)  # the broker itself is up
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert ready(**ops_token).json()["checks"]["BeatTick"].startswith("Unavailable: no beat tick")  # beat never ran
    beat_ticked(datetime.timedelta(minutes=11))
    assert ready(**ops_token).status_code == 503
    beat_ticked(datetime.timedelta(seconds=40))
    assert ready(**ops_token).status_code == 200


# --- metrics -------------------------------------------------------------------------------------

SERIES = [
    "cpd_review_queue_length",
    "cpd_verification_runs",
    "cpd_verification_run_duration_seconds",
    "cpd_import_duration_seconds",
    "cpd_export_duration_seconds",
    "cpd_jobs_pending",
    "cpd_reminders_sent_total",
    "cpd_celery_task_failures_total",
    "cpd_task_publish_failures_total",
    "django_http_requests_total_by_method_total",
]


def test_metrics_refuse_anonymous_and_non_staff(world):
    assert Client().get("/metrics").status_code == 401
    assert world.client("teacher_a1").get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_metrics_expose_the_named_series_to_the_ops_token(world, ops_token):
    from hours.models import Declaration

    teacher = world.teachers["teacher_a1"]
    for state, n in ((DeclarationState.SUBMITTED, 3), (DeclarationState.SCHOOL_APPROVED, 2)):
        for i in range(n):
            Declaration.objects.bulk_create(
                [
                    Declaration(
                        teacher=teacher,
                        school_id=teacher.school_id,  # bulk_create skips `save`, which sets them
                        district_id=teacher.school.parent_id,
                        year=2026,
                        category="professional",
                        activity_type="authority_training",
                        title=f"{state}-{i}",
                        organiser="广州市教育研究院",
                        start_date=datetime.date(2026, 3, 2),
                        end_date=datetime.date(2026, 3, 3),
                        hours=8,
                        state=state,
                    )
                ]
            )
    response = Client().get("/metrics", **ops_token)
    assert response.status_code == 200
    text = response.content.decode()
    for name in SERIES:
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert 'cpd_review_queue_length{level="school"} 3.0' in text
    assert 'cpd_review_queue_length{level="district"} 2.0' in text


def test_staff_may_read_the_metrics(world):
    user = world.users["city_admin"]
    user.is_staff = True
    user.save()
    assert world.client("city_admin").get("/metrics").status_code == 200
