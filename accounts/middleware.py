"""Per-request role resolution, the Django admin gate, the language default and the lockout answer."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from . import selectors

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
            if not selectors.can_use_django_admin(request.user, getattr(request, "user_roles", None)):
                raise Http404
        return self.get_response(request)


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user picked another language (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; the platform's
    users expect Chinese by default whatever their browser says (SPEC: zh-hans default).
    """

    def process_request(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in dict(settings.LANGUAGES) and request.path.startswith("/api/") and request.headers.get("Accept-Language"):
            # An API client has no language cookie: it names its language in Accept-Language, and every
            # answer (refusals included) comes in that language; pages stay Chinese whatever the browser says.
            code = translation.get_language_from_request(request, check_path=False)
        if code not in dict(settings.LANGUAGES):
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()


def lockout_response(request, original_response=None, credentials=None):
    """What django-axes answers once a login is locked (AXES_LOCKOUT_CALLABLE).

    API clients parse JSON, so /api/ gets the usual `{"detail": ...}` shape; browsers get the page.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("登录失败次数过多，账号已暂时锁定，请稍后再试。")}, status=429)
    return render(request, "accounts/locked_out.html", status=429)
