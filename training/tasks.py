from celery import shared_task

from . import imports


@shared_task(name="training.tasks.hours_import_validate", acks_late=True)
def hours_import_validate(import_id: int) -> str:
    return imports.hours_import_validate(import_id).status


@shared_task(name="training.tasks.hours_import_run", acks_late=True)
def hours_import_run(import_id: int, actor_id: int | None) -> str:
    return imports.hours_import_run(import_id, actor_id).status
