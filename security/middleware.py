"""Session lifetime, the first-login and second-factor gates, and the request seen by audit signals."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .mfa import mfa_required
from .services import current_request

SESSION_AUTH_AT = "cpd_auth_at"
SESSION_LAST_SEEN = "cpd_last_seen"
# Write the "last seen" stamp at most this often: the idle timeout is precise to a minute.
LAST_SEEN_RESOLUTION = 60

ALWAYS_OPEN = ("/static/", "/i18n/", "/logout/", "/login/", "/api/", "/health/", "/metrics", "/certificates/verify/")
MFA_PAGES = "/account/mfa/"
PASSWORD_PAGE = "/account/password/"


class RequestContextMiddleware:
    """Lets audit rows written from model signals name the request's user, role and address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


class SessionTimeoutMiddleware:
    """Ends a session idle for CPD_SESSION_IDLE_MINUTES or older than CPD_SESSION_MAX_HOURS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            auth_at = session.get(SESSION_AUTH_AT)
            last_seen = session.get(SESSION_LAST_SEEN, auth_at)
            idle = settings.CPD_SESSION_IDLE_MINUTES * 60
            absolute = settings.CPD_SESSION_MAX_HOURS * 3600
            if auth_at is None:
                session[SESSION_AUTH_AT] = session[SESSION_LAST_SEEN] = now
            elif now - auth_at > absolute or (last_seen is not None and now - last_seen > idle):
                request.cpd_session_expired = True
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(request, _("会话已超时，请重新登录。"))
                    return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
            elif last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class AccountGateMiddleware:
    """Pages wait for the second factor (admins, the Django admin), then for the issued password's change.

    The API is gated by `security.permissions.AccountReady` (403 with a message, no redirect).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        path = request.path
        if not user.is_authenticated or path.startswith(ALWAYS_OPEN):
            return self.get_response(request)
        needs_mfa = path.startswith("/admin/") or mfa_required(user, getattr(request, "user_roles", None))
        if needs_mfa and not user.is_verified():
            if not path.startswith(MFA_PAGES):
                return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': request.get_full_path()})}")
        elif user.must_change_password and not path.startswith((PASSWORD_PAGE, MFA_PAGES)):
            return redirect("password_change")
        return self.get_response(request)
