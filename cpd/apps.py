from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """The Django admin with the platform's role-based site (superusers and city admins)."""

    default_site = "accounts.admin_site.CpdAdminSite"


class CpdConfig(AppConfig):
    """The platform's own models (external platform clients), below every other app."""

    name = "cpd"
    verbose_name = "平台"

    def ready(self) -> None:
        from django.apps import apps

        from . import choices

        choices.install(apps.get_models(include_auto_created=True))
