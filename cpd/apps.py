from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """The Django admin with the platform's role-based site (superusers and city admins)."""

    default_site = "accounts.admin_site.CpdAdminSite"
