from cpd.jobs import ScheduledJobCommand
from verification import services


class Command(ScheduledJobCommand):
    job_name = "refresh_statistics"
    help = "Refresh the stored statistics of the year of --date and the year before (teacher counts follow the roster)."

    def run_job(self, day):
        return {str(year): rows for year, rows in services.statistics_refresh_open_years(today=day).items()}
