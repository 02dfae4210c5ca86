"""cpd.tasks.enqueue: services queue a task by its name; eagerly without a broker, after the commit with one."""

from unittest import mock

import pytest

from cpd.celery import app
from cpd.tasks import enqueue


def test_without_a_broker_the_task_runs_at_once(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    with mock.patch.object(app.tasks["cpd.ping"], "run", return_value="pong") as run:
        enqueue("cpd.ping")
    run.assert_called_once_with()


@pytest.mark.django_db(transaction=False)
def test_with_a_broker_the_task_is_sent_by_name_only_once_the_transaction_commits(settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch.object(app, "send_task") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue("training.tasks.hours_import_validate", 42)
        send.assert_not_called()
        for callback in callbacks:
            callback()
    send.assert_called_once()
    assert send.call_args.args == ("training.tasks.hours_import_validate",) and send.call_args.kwargs["args"] == (42,)


def test_an_unknown_task_name_fails_loudly(settings):
    with pytest.raises(KeyError):
        enqueue("hours.tasks.no_such_task")
