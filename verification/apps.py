from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "年度验证"

    def ready(self) -> None:
        # hours sits below verification in the import order, so what it counts by is handed down here:
        # the carry-in as the engine reads it (last year's verified carry-out) and the year minimums.
        # In the cycle regime the cycles app hands down the cycle summary 我的学时 shows instead.
        from django.conf import settings

        from hours import ledger
        from hours.selectors import register_year_minimums

        from .engine import carry_in_from_results
        from .selectors import policy_minimums

        ledger.register_carry_in(carry_in_from_results)
        # accounts sits below verification too: the organisation list's stored area counts, and a moved
        # school's statistics follow it.
        from accounts import selectors as accounts_selectors
        from accounts import services as accounts_services

        from .selectors import stored_area_counts
        from .services import statistics_school_moved

        accounts_selectors.register_stored_area_counts(stored_area_counts)
        if statistics_school_moved not in accounts_services.SCHOOL_MOVED:
            accounts_services.SCHOOL_MOVED.append(statistics_school_moved)
        # The hours pages measure a year against its policy only where years are verified.
        register_year_minimums(policy_minimums if settings.CPD_REGIME == "annual" else None)
