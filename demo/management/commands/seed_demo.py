from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.accounts import seed_demo
from demo.hours import seed_hours_demo
from demo.points import seed_points_demo
from demo.training import DEMO_PLATFORM_KEY, seed_projects_demo
from demo.verification import seed_verification_demo


class Command(BaseCommand):
    help = "Create or refresh the demo data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--regime",
            choices=["annual", "cycle"],
            default="annual",
            help="annual: Guangzhou city with yearly verification (default); cycle: Henan/Zhengzhou five-year cycles (needs CPD_REGIME=cycle)",
        )

    def handle(self, *args, regime="annual", **options):
        if settings.PRODUCTION:
            # Demo logins and the demo platform key are printed in the README: never in a production database.
            raise CommandError("seed_demo refuses to run with CPD_PRODUCTION=1.")
        if regime == "cycle":
            if settings.CPD_REGIME != "cycle":
                raise CommandError(
                    "A cycle deployment needs CPD_REGIME=cycle in the environment (python3 run.py demo --cycle sets it)."
                )
            from demo.cycles import seed_cycle_demo

            logins = seed_cycle_demo()
        else:
            logins = seed_demo()
            seed_hours_demo()
            seed_projects_demo()
            seed_verification_demo()
            seed_points_demo()
            from demo.home import seed_home_demo

            logins += seed_home_demo()
        from security.demo import demo_totp_secret, seed_demo_mfa

        with_mfa = seed_demo_mfa([username for username, _password, _what in logins])
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo logins (username / password):"))
        for username, password, what in logins:
            self.stdout.write(f"  {username:<12} {password:<16} {what}")
        if with_mfa:
            self.stdout.write(
                f"Second factor (TOTP) for {', '.join(with_mfa)}: add the secret {demo_totp_secret()} to an "
                "authenticator app, or print the current code with `python3 run.py totp <username>`."
            )
        if regime == "annual":
            self.stdout.write(f"Online learning platform API key (demo): Authorization: Platform {DEMO_PLATFORM_KEY}")
