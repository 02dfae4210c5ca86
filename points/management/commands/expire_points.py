from cpd.jobs import ScheduledJobCommand
from points import services


class Command(ScheduledJobCommand):
    job_name = "expire_points"
    help = "Clear the unspent points (and cancel pending exchange requests) of every year before --date's year."

    def run_job(self, day):
        return {str(year): result for year, result in services.points_expire_due(day).items()}
