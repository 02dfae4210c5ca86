"""Send the day's deadline reminders (the job Celery beat runs daily). Idempotent: running it twice for
the same date sends nothing the second time."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from home.reminders import send_reminders


class Command(BaseCommand):
    help = "Send deadline reminders due on --date (default: today, in the platform's time zone)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD")

    def handle(self, *args, **options):
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be YYYY-MM-DD") from None
        else:
            today = timezone.localdate()
        report = send_reminders(today=today)
        for key, n in report.items():
            self.stdout.write(f"{key}\t{n}")
