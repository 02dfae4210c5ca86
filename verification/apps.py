from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = "年度验证"

    def ready(self) -> None:
        # hours sits below verification in the import order, so what it counts by is handed down here:
        # the carry-in as the engine reads it (last year's verified carry-out), and in the cycle regime the
        # cycle summary 我的学时 shows instead of annual figures.
        from hours import ledger

        from . import cycles
        from .engine import carry_in_from_results

        ledger.register_carry_in(carry_in_from_results)
        ledger.register_period_summary(cycles.hours_page_summary)
