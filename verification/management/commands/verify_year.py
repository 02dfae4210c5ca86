from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from cpd.errors import StateConflict
from verification import services


class Command(BaseCommand):
    help = "Verify a year for the whole city or one district (runs in this process) and print the counts."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--district", help="district (or city-direct unit) code")

    def handle(self, *args, year, district=None, **options):
        from django.core.exceptions import ValidationError

        org = None
        if district:
            org = Organisation.objects.filter(code=district).first()
            if org is None:
                raise CommandError(f"Unknown district code: {district}")
        try:
            run = services.run_start(role=None, actor=None, year=year, district=org, inline=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages))
        except StateConflict as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"Run #{run.pk} for {year}{' / ' + org.name if org else ''}: {run.status}, {run.total} teachers")
        for status, n in sorted(run.counts.items()):
            self.stdout.write(f"  {status}: {n}")
