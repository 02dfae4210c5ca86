"""Per-request role resolution and the Django admin gate."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from . import selectors
from .models import RoleKind

SESSION_ROLE_KEY = "active_role_id"


class ActiveRoleMiddleware:
    """Sets `request.role`: the role the user acts in for this request (session-chosen)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.user_roles = selectors.roles_of(request.user)
        request.role = selectors.pick_role(request.user_roles, request.session.get(SESSION_ROLE_KEY))
        return self.get_response(request)


class AdminAccessMiddleware:
    """The Django admin is for superusers and city admins only; others get 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and request.user.is_authenticated:
            roles = getattr(request, "user_roles", [])
            if not request.user.is_superuser and not any(r.kind == RoleKind.CITY_ADMIN for r in roles):
                raise Http404
        return self.get_response(request)


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user picked another language (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; the platform's
    users expect Chinese by default whatever their browser says (SPEC: zh-hans default).
    """

    def process_request(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()
