"""Who may use a page or an API endpoint: "the current role must be one of …", in one place.

Pages and API views alike: `@role_required(RoleKind.CITY_ADMIN)`, or `role = require_role(request, ...)`
where the view needs the role. No role, or a role of another
kind, is refused with the same message everywhere: the styled 403 page, or 403 from the API. Out of
scope objects are still 404 (the scoping selectors decide that).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request

from .models import Role


def role_is(role: Role | None, *kinds: str) -> bool:
    """Whether the role exists and is one of `kinds` (any role when none are given)."""
    return role is not None and (not kinds or role.kind in kinds)


def require_role(request: Any, *kinds: str) -> Role:
    """The active role, which must be one of `kinds` (any role when none are given).

    Works for pages (the role the session chose) and for DRF views (the X-CPD-Role header, or the
    session's role): a page answers with the styled 403 page, the API with 403 and a detail.
    """
    if isinstance(request, Request):
        from .api import api_role

        role = api_role(request)
        if not role_is(role, *kinds):
            # In the request's language, like every other refusal (API clients name it in Accept-Language).
            raise drf_exceptions.PermissionDenied(_("您没有可用的角色。") if role is None else _("您当前的角色不能使用此功能。"))
    else:
        role = getattr(request, "role", None)
        if not role_is(role, *kinds):
            raise PermissionDenied(_("您当前的角色不能使用此功能。"))
    assert role is not None
    return role


def role_required(*kinds: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator (pages and function-based API views): the active role must be one of `kinds`.

    Put it under `@login_required` (pages) or `@api_view` (API)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            require_role(request, *kinds)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
