from django.conf import settings
from django.core.management.base import BaseCommand

from security.services import audit_prune


class Command(BaseCommand):
    help = "Delete audit events older than CPD_AUDIT_RETENTION_DAYS (at least 180); does nothing when it is 0."

    def handle(self, *args, **options):
        if not settings.CPD_AUDIT_RETENTION_DAYS:
            self.stdout.write("CPD_AUDIT_RETENTION_DAYS is not set: audit events are kept.")
            return
        deleted = audit_prune()
        self.stdout.write(f"Deleted {deleted} audit events older than {settings.CPD_AUDIT_RETENTION_DAYS} days.")
