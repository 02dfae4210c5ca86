import datetime

from django.utils import timezone

from cpd.jobs import ScheduledJobCommand
from hours import services


class Command(ScheduledJobCommand):
    job_name = "prune_staged_uploads"
    help = (
        "Delete files kept for declaration forms that were never sent again once they are older than 24 hours "
        "(as of the end of --date, or now for today), with their rows."
    )

    def run_job(self, day):
        now = timezone.now()
        if day < timezone.localdate():
            # As beat would have run at the end of that day: nothing younger than a day then is touched.
            now = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
        return {"deleted": services.staged_uploads_prune(now=now)}
