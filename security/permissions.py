"""API gate: an account whose password must be changed, or whose second factor is pending, may not use the API."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from .mfa import mfa_required


class AccountReady(BasePermission):
    """403 with a clear message until the issued password is changed or the session passed MFA.

    A view that sets `allowed_with_issued_password = True` (the password change itself) is
    open to an account that must still change its password. Tokens are only issued after the
    second factor, so only session-authenticated requests are checked for it here.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return True
        if getattr(user, "must_change_password", False) and not getattr(view, "allowed_with_issued_password", False):
            self.message = _("请先修改初始密码（/account/password/ 或 POST /api/v1/auth/password/）。")
            return False
        if isinstance(request.successful_authenticator, SessionAuthentication):
            django_user = request._request.user
            if mfa_required(user) and not getattr(django_user, "is_verified", lambda: True)():
                self.message = _("请先完成两步验证。")
                return False
        return True
