from django.apps import AppConfig


class CyclesConfig(AppConfig):
    """The five-year cycle regime; in INSTALLED_APPS only when CPD_REGIME=cycle."""

    name = "cycles"
    verbose_name = "继续教育周期"
