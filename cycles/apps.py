from django.apps import AppConfig


class CyclesConfig(AppConfig):
    """The five-year cycle regime; in INSTALLED_APPS only when CPD_REGIME=cycle."""

    name = "cycles"
    verbose_name = "继续教育周期"

    def ready(self) -> None:
        # hours sits below this app: 我的学时 shows the cycle summary it is handed here.
        from hours import ledger

        from .rules import hours_page_summary

        ledger.register_period_summary(hours_page_summary)
