from celery import shared_task

from . import services


@shared_task(name="points.tasks.expire_due")
def expire_due() -> dict:
    """Daily: clear the unspent points of every past year (idempotent)."""
    return {str(year): result for year, result in services.points_expire_due().items()}


@shared_task(name="points.tasks.points_import_validate", acks_late=True)
def points_import_validate(import_id: int) -> str:
    from .imports import points_import_validate as run

    return run(import_id).status


@shared_task(name="points.tasks.points_import_run", acks_late=True)
def points_import_run(import_id: int) -> str:
    from .imports import points_import_run as run

    return run(import_id).status
