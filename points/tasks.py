from celery import shared_task

from . import services


@shared_task(name="points.tasks.expire_due")
def expire_due() -> dict:
    """Daily: clear the unspent points of every past year (idempotent)."""
    return {str(year): result for year, result in services.points_expire_due().items()}
