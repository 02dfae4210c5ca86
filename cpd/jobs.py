"""Scheduled jobs as management commands: what beat starts every day, an operator can start by hand.

The pattern every scheduled job follows (year close, automatic verification, points expiry; the
reminders and audit-log pruning jobs follow it too):

1. One service function does the job for a given day, `job(today=...)`, and is idempotent: running
   it twice for the same day (or for a later day after an earlier one) changes nothing more than
   running it once. Claim work with a conditional UPDATE or a unique row, never "check then write".
2. The Celery task (`<app>/tasks.py`, listed in CELERY_BEAT_SCHEDULE) calls it with today's date.
3. A management command, a subclass of `ScheduledJobCommand`, calls it with `--date` (default:
   today in the platform's time zone), so that after beat was down an operator catches up with
   `python manage.py <command> --date YYYY-MM-DD`, and prints a one-line JSON summary.

Catching up: each job acts on everything due up to the given day (every year whose deadline has
passed, every past year's points), so one run with the last missed day, or with today, catches up
on all the missed days at once.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}") from None


class ScheduledJobCommand(BaseCommand):
    """Run one scheduled job for a day. Subclasses set `job_name`, `help` and implement `run_job`."""

    job_name = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=parse_day,
            default=None,
            help="the day to run the job for, YYYY-MM-DD (default: today, Asia/Shanghai); use the last day beat missed",
        )

    def run_job(self, day: datetime.date) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def handle(self, *args, date: datetime.date | None = None, **options):
        day = date or timezone.localdate()
        if day > timezone.localdate():
            raise CommandError("--date cannot be in the future")
        result = self.run_job(day)
        self.stdout.write(json.dumps({"job": self.job_name, "date": day.isoformat(), "result": result}, default=str))
