"""Liveness and readiness for the load balancer and the orchestrator (django-health-check's checks).

- `/health/live/`: the process answers (no database, no broker): restart the container when it fails.
- `/health/ready/`: the database answers, every migration is applied, the broker accepts connections,
  the evidence storage can write/read/delete, and Celery beat ticked recently (its heartbeat entry,
  see CELERY_BEAT_SCHEDULE). 503 when any fails.

Anonymous callers get only `{"status": ...}`; staff or the ops token (cpd/ops_access.py) get each
check's result, which names services and errors.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.exceptions import HealthCheckException, ServiceUnavailable

from .ops_access import may_see_operations

BEAT_HEARTBEAT = "beat-heartbeat"


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration on disk is applied: a new image started before `migrate` ran is not ready."""

    alias: str = "default"

    def run(self) -> None:
        try:
            connection = connections[self.alias]
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise ServiceUnavailable("database unavailable") from exc
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migrations not applied")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (within the short timeouts of CELERY_BROKER_*)."""

    def run(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # no broker configured: tasks run in-process
        from cpd.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        except Exception as exc:  # kombu/redis raise many kinds
            raise ServiceUnavailable(f"broker unavailable: {type(exc).__name__}") from exc


@dataclasses.dataclass
class BeatTick(HealthCheck):
    """Celery beat sent its heartbeat recently: scheduled jobs (year close, expiry) are being started."""

    def run(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # no broker, no beat: jobs are run by management commands
        from django_celery_beat.models import PeriodicTask

        try:
            last = PeriodicTask.objects.filter(name=BEAT_HEARTBEAT).values_list("last_run_at", flat=True).first()
        except DatabaseError as exc:
            raise ServiceUnavailable("database unavailable") from exc
        max_age = datetime.timedelta(seconds=settings.CPD_BEAT_MAX_AGE_SECONDS)
        if last is None or timezone.now() - last > max_age:
            raise ServiceUnavailable(f"no beat tick in the last {max_age.total_seconds():g} s")


READINESS_CHECKS: list[type[HealthCheck]] = [Database, Migrations, Broker, Storage, BeatTick]


def _run(check: HealthCheck) -> str | None:
    """The check's error message, or None when it passes. Checks run in the request's thread."""
    try:
        check.run()
    except HealthCheckException as exc:
        return str(exc)
    except Exception as exc:  # a check must answer, never crash the probe
        return f"unexpected error: {type(exc).__name__}"
    return None


@never_cache
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    results = {check.__name__: _run(check()) for check in READINESS_CHECKS}
    ok = not any(results.values())
    body: dict = {"status": "ok" if ok else "unavailable"}
    if may_see_operations(request):
        body["checks"] = {name: error or "ok" for name, error in results.items()}
    return JsonResponse(body, status=200 if ok else 503)
