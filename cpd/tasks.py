"""Queueing helpers shared by the apps."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction


def enqueue(task, *args) -> None:
    """Run `task` after the current transaction commits (a worker must see the rows it reads).

    With no broker (local demo, tests) tasks run eagerly, right now, in this process, so the
    page that started them can show the result at once.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply(args=args, throw=True)
    else:
        transaction.on_commit(lambda: task.delay(*args))
