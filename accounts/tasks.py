"""Celery tasks of the accounts app: thin wrappers around the roster import's services."""

from celery import shared_task


@shared_task(name="accounts.tasks.roster_import_validate", acks_late=True)
def roster_import_validate(import_id: int, role_id: int) -> str:
    from .roster_import import roster_import_validate as run

    return run(import_id=import_id, role_id=role_id).status


@shared_task(name="accounts.tasks.roster_import_run", acks_late=True)
def roster_import_run(import_id: int, role_id: int, actor_id: int | None) -> str:
    from .roster_import import roster_import_run as run

    return run(import_id=import_id, role_id=role_id, actor_id=actor_id).status
