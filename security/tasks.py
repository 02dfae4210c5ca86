from celery import shared_task

from . import services


@shared_task(name="security.tasks.prune_audit")
def prune_audit() -> int:
    """Daily: delete audit events past CPD_AUDIT_RETENTION_DAYS (nothing when it is 0; never under 180 days).
    Running it twice deletes nothing more (what the first run left is within the retention)."""
    return services.audit_prune()
