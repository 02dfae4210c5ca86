from celery import group, shared_task

from . import exports, services


@shared_task(name="verification.tasks.run_verification", acks_late=True)
def run_verification(run_id: int) -> None:
    """Fan out one task per chunk of schools; each finishing chunk checks whether the run is complete."""
    from .models import VerificationRun

    run = VerificationRun.objects.get(pk=run_id)
    if not run.chunk_plan:
        services.run_finish(run_id)
        return
    group(verify_run_chunk.s(run_id, index) for index in range(len(run.chunk_plan))).apply_async()


@shared_task(
    name="verification.tasks.verify_run_chunk", acks_late=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3
)
def verify_run_chunk(run_id: int, index: int) -> int:
    done = services.run_chunk(run_id, index)
    services.run_finish(run_id)
    return done


@shared_task(name="verification.tasks.auto_verify_due")
def auto_verify_due() -> int | None:
    run = services.auto_verify_due()
    return run.pk if run else None


@shared_task(name="verification.tasks.build_export", acks_late=True)
def build_export(job_id: int) -> str:
    return exports.export_build(job_id).status


@shared_task(name="verification.tasks.refresh_statistics")
def refresh_statistics() -> dict[int, int]:
    """Daily: the stored statistics of the open years (teacher counts follow the roster)."""
    return services.statistics_refresh_open_years()
