"""Prometheus metrics at /metrics: django-prometheus's (requests, database, migrations) plus the project's.

Two kinds of project series:
- counters kept by the process that counts (`REMINDERS_SENT`, `TASK_PUBLISH_FAILURES`,
  `CELERY_TASK_FAILURES`): increment them where the thing happens, e.g.
  `REMINDERS_SENT.labels(channel="email").inc()`. A Celery worker's counters are served by the
  worker itself when CPD_WORKER_METRICS_PORT is set (cpd/celery.py);
- figures read from the database when Prometheus scrapes (`DatabaseCollector`): review queue
  lengths per level, runs by status, run/import/export durations. They are the same whichever
  process answers, so any web worker can serve them.
"""

from __future__ import annotations

import os

import prometheus_client
from django.db.models import Count, F, Sum
from django.db.models.functions import Extract
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CollectorRegistry, Counter, multiprocess
from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

from .ops_access import may_see_operations

TASK_PUBLISH_FAILURES = Counter(
    "cpd_task_publish_failures", "Tasks a request could not queue (broker down); the request answered 503", ["task"]
)
CELERY_TASK_FAILURES = Counter("cpd_celery_task_failures", "Celery tasks that raised", ["task"])
REMINDERS_SENT = Counter("cpd_reminders_sent", "Reminders sent", ["channel"])


def _seconds(start: str, end: str):
    return Extract(F(end), "epoch") - Extract(F(start), "epoch")


def _durations(queryset, start: str, end: str, labels: list[str]):
    """(label values, count, sum of seconds) per group of finished jobs."""
    rows = (
        queryset.filter(**{f"{end}__isnull": False})
        .values(*labels)
        .annotate(n=Count("pk"), total=Sum(_seconds(start, end)))
        .order_by(*labels)
    )
    return [([str(r[label]) for label in labels], r["n"], float(r["total"] or 0)) for r in rows]


class DatabaseCollector:
    """Figures read from the database at scrape time (one small aggregate query each)."""

    def collect(self):
        from hours.models import Declaration, DeclarationState
        from training.models import HoursImport
        from verification.models import ExportJob, VerificationRun

        queue = GaugeMetricFamily(
            "cpd_review_queue_length", "Declarations waiting for review, per review level", labels=["level"]
        )
        waiting = dict(
            Declaration.objects.filter(state__in=[DeclarationState.SUBMITTED, DeclarationState.SCHOOL_APPROVED])
            .values_list("state")
            .annotate(n=Count("pk"))
            .values_list("state", "n")
        )
        queue.add_metric(["school"], waiting.get(DeclarationState.SUBMITTED, 0))
        queue.add_metric(["district"], waiting.get(DeclarationState.SCHOOL_APPROVED, 0))
        yield queue

        runs = GaugeMetricFamily("cpd_verification_runs", "Verification runs by status", labels=["status"])
        for status, n in VerificationRun.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"):
            runs.add_metric([status], n)
        yield runs

        run_durations = SummaryMetricFamily(
            "cpd_verification_run_duration_seconds", "Finished verification runs, start to finish", labels=["status"]
        )
        for labels, n, total in _durations(VerificationRun.objects.all(), "started_at", "finished_at", ["status"]):
            run_durations.add_metric(labels, n, total)
        yield run_durations

        exports = SummaryMetricFamily(
            "cpd_export_duration_seconds", "Finished exports, request to file", labels=["kind", "status"]
        )
        for labels, n, total in _durations(ExportJob.objects.all(), "created_at", "finished_at", ["kind", "status"]):
            exports.add_metric(labels, n, total)
        yield exports

        imports = SummaryMetricFamily("cpd_import_duration_seconds", "Imported files, upload to import", labels=["kind"])
        for labels, n, total in _durations(HoursImport.objects.all(), "created_at", "imported_at", ["kind"]):
            imports.add_metric(labels, n, total)
        yield imports

        pending = GaugeMetricFamily("cpd_jobs_pending", "Exports and imports not finished yet", labels=["job"])
        pending.add_metric(["export"], ExportJob.objects.filter(status="pending").count())
        pending.add_metric(["import"], HoursImport.objects.filter(status__in=["validating", "importing"]).count())
        yield pending


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return registry


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for staff or the ops token only (queue sizes and failures are not public)."""
    if not may_see_operations(request):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    body = prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(_database_registry())
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
