import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpd.settings")

app = Celery("cpd")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="cpd.ping")
def ping() -> str:
    """Health check: proves a worker consumes from the broker and writes results."""
    return "pong"
