from django.core.management.base import BaseCommand

from accounts.demo import seed_demo
from hours.demo import seed_hours_demo
from hours.demo_projects import DEMO_PLATFORM_KEY, seed_projects_demo
from points.demo import seed_points_demo
from verification.demo import seed_verification_demo


class Command(BaseCommand):
    help = "Create or refresh the demo city (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins = seed_demo()
        seed_hours_demo()
        seed_projects_demo()
        seed_verification_demo()
        seed_points_demo()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo logins (username / password):"))
        for username, password, what in logins:
            self.stdout.write(f"  {username:<12} {password:<16} {what}")
        self.stdout.write(f"Online learning platform API key (demo): Authorization: Platform {DEMO_PLATFORM_KEY}")
