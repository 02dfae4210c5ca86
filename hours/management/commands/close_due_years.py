from cpd.jobs import ScheduledJobCommand
from hours import services


class Command(ScheduledJobCommand):
    job_name = "close_due_years"
    help = "Void undecided declarations of every year whose last review deadline passed before --date, and lock those years."

    def run_job(self, day):
        return {str(year): result for year, result in services.years_close_due(today=day).items()}
