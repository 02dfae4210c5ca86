"""The project's own Prometheus series (django-prometheus adds the request, database and cache ones).

Counters and histograms are incremented where things happen; gauges that describe the database
(queue lengths, runs in progress) are read when Prometheus scrapes (see `collect_gauges`).
Other code increments `REMINDERS_SENT` (reminders job) like any counter:
`REMINDERS_SENT.labels(channel="email").inc()`.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TASK_PUBLISH_FAILURES = Counter(
    "cpd_task_publish_failures_total", "Tasks a request could not queue (broker down); answered 503", ["task"]
)
CELERY_TASK_FAILURES = Counter("cpd_celery_task_failures_total", "Celery tasks that raised", ["task"])
REMINDERS_SENT = Counter("cpd_reminders_sent_total", "Reminders sent to teachers and admins", ["channel"])
RUN_DURATION = Histogram(
    "cpd_verification_run_duration_seconds",
    "Verification runs from start to done",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600),
)
IMPORT_DURATION = Histogram(
    "cpd_import_duration_seconds", "Import tasks (dry run and confirm)", ["kind", "step"], buckets=(0.5, 1, 5, 15, 60, 300, 900)
)
EXPORT_DURATION = Histogram(
    "cpd_export_duration_seconds", "Export builds", ["kind", "status"], buckets=(0.5, 1, 5, 15, 60, 300, 900)
)
