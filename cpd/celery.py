import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")

app = Celery("cpd")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Request ids into the tasks a request queues, task failures counted (cpd/logs.py).
from cpd.logs import connect_celery_signals  # noqa: E402

connect_celery_signals()


@app.task(name="cpd.ping")
def ping() -> str:
    """Health check: proves a worker consumes from the broker and writes results."""
    return "pong"


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_unsafe_start(**_kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from cpd.production import refuse_unsafe_start

    try:
        refuse_unsafe_start()
    except ImproperlyConfigured as exc:
        # Celery logs and swallows an exception raised by a signal handler; SystemExit stops the process.
        raise SystemExit(str(exc)) from exc


@app.task(name="cpd.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Sent by beat every minute; beat records when it sent it, which readiness reads (cpd/health.py)."""
