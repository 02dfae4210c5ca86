"""Model permissions that follow from a role rather than from per-user permission rows."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from . import selectors
from .models import RoleKind

# What a city admin maintains in the Django admin: the platform's organisations, users,
# roles and records, and the periodic task schedule.
CITY_ADMIN_APP_LABELS = frozenset({"accounts", "django_celery_beat"})


class CityAdminPermissionBackend(BaseBackend):
    """Grants a city admin every model permission of `CITY_ADMIN_APP_LABELS`.

    Why: the admin checks `user.has_perm`, and a city admin appointed by a role must be able
    to work there without someone also ticking permission boxes. Authenticates nobody.
    """

    def _is_city_admin(self, user_obj) -> bool:
        if not getattr(user_obj, "is_active", False) or getattr(user_obj, "is_anonymous", True):
            return False
        if not hasattr(user_obj, "_cpd_city_admin"):
            user_obj._cpd_city_admin = any(r.kind == RoleKind.CITY_ADMIN for r in selectors.roles_of(user_obj))
        return user_obj._cpd_city_admin

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm.split(".", 1)[0] in CITY_ADMIN_APP_LABELS and self._is_city_admin(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return app_label in CITY_ADMIN_APP_LABELS and self._is_city_admin(user_obj)
