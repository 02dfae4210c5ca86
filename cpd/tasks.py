"""Queueing helper shared by the apps: services queue work by task name.

Tasks import services (they are thin wrappers); a service never imports its app's tasks module,
so the two cannot import each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from .errors import ServiceUnavailable

logger = logging.getLogger(__name__)


def queue_unavailable_message() -> str:
    return _("任务队列暂时不可用，任务没有开始。请稍后重试。")


def enqueue(name: str, *args: Any, on_failure: Callable[[str], object] | None = None) -> None:
    """Run the Celery task registered as `name` after the current transaction commits (a worker must
    see the rows it reads).

    With no broker (local demo, tests) tasks run eagerly, right now, in this process, so the
    page that started them can show the result at once.

    When the broker cannot take the task (down, unreachable: the publish gives up within a few
    seconds, see CELERY_BROKER_* in settings), `on_failure(reason)` marks the job failed so that
    nothing waits for a task that will never run, and ServiceUnavailable (503) is raised.
    """
    from .celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # A worker imports every app's tasks module at start; this process may not have yet (plain
        # imports: Celery's own loader would run django.setup() again and reset the logging).
        autodiscover_modules("tasks")
        app.tasks[name].apply(args=args, throw=True)
        return

    def publish() -> None:
        try:
            app.send_task(name, args=args, retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY)
        except Exception as exc:  # kombu/redis raise many kinds; any of them means the task is not queued
            logger.error("task %s not queued: %s", name, type(exc).__name__)
            reason = queue_unavailable_message()
            if on_failure is not None:
                on_failure(reason)
            from cpd.metrics import TASK_PUBLISH_FAILURES

            TASK_PUBLISH_FAILURES.labels(task=name).inc()
            raise ServiceUnavailable(reason) from exc

    transaction.on_commit(publish)
