from celery import group, shared_task

from . import services
from .engine import verify_chunk


@shared_task(name="verification.tasks.run_verification", acks_late=True)
def run_verification(run_id: int) -> None:
    """Fan out one task per chunk of schools; each finishing chunk checks whether the run is complete."""
    from .models import VerificationRun

    run = VerificationRun.objects.select_related("district").get(pk=run_id)
    chunks = services.run_chunks(run)
    if not chunks:
        services.run_finish(run_id)
        return
    group(verify_run_chunk.s(run_id, chunk) for chunk in chunks).apply_async()


@shared_task(name="verification.tasks.verify_run_chunk", acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def verify_run_chunk(run_id: int, school_ids: list[int]) -> int:
    done = verify_chunk(run_id, school_ids)
    services.run_finish(run_id)
    return done


@shared_task(name="verification.tasks.auto_verify_due")
def auto_verify_due() -> int | None:
    run = services.auto_verify_due()
    return run.pk if run else None


@shared_task(name="verification.tasks.build_export", acks_late=True)
def build_export(job_id: int) -> str:
    from .exports import export_build

    return export_build(job_id).status
