"""The Django admin site, opened by role (see `selectors.can_use_django_admin`).

Django's stock site lets in whoever has `is_staff`; here superusers and city admins get
in and everyone else is turned away, whatever their staff flag says.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import selectors


class AdminLoginForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)
        if not selectors.can_use_django_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class CpdAdminSite(admin.AdminSite):
    login_form = AdminLoginForm

    def has_permission(self, request) -> bool:
        return selectors.can_use_django_admin(request.user, getattr(request, "user_roles", None))
