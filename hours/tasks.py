from celery import shared_task

from . import services


@shared_task(name="hours.tasks.close_due_years")
def close_due_years() -> dict:
    """Daily: void undecided declarations of years past their last deadline, then lock those years."""
    return {str(year): result for year, result in services.years_close_due().items()}


@shared_task(name="hours.tasks.hours_import_validate", acks_late=True)
def hours_import_validate(import_id: int) -> str:
    from .imports import hours_import_validate as run

    return run(import_id).status


@shared_task(name="hours.tasks.hours_import_run", acks_late=True)
def hours_import_run(import_id: int, actor_id: int | None) -> str:
    from .imports import hours_import_run as run

    return run(import_id, actor_id).status
