from celery import shared_task

from . import services


@shared_task(name="hours.tasks.close_due_years")
def close_due_years() -> dict:
    """Daily: void undecided declarations of years past their last deadline, then lock those years."""
    return {str(year): result for year, result in services.years_close_due().items()}


@shared_task(name="hours.tasks.prune_staged_uploads")
def prune_staged_uploads() -> dict:
    """Daily: delete files kept for unfinished forms once they are older than a day."""
    return {"deleted": services.staged_uploads_prune()}
