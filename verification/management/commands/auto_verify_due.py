from cpd.jobs import ScheduledJobCommand
from verification import services


class Command(ScheduledJobCommand):
    job_name = "auto_verify_due"
    help = "Verify last year (relative to --date) once its district review deadline has passed, unless a run since then exists."

    def run_job(self, day):
        run = services.auto_verify_due(today=day)
        return {"run": run.pk if run else None, "status": run.status if run else None}
