from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("安全")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (login, logout and change receivers)
