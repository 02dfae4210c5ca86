"""Who needs a second factor, and the TOTP / recovery-code devices (django-otp)."""

from __future__ import annotations

import secrets

from django.apps import apps
from django.conf import settings
from django_otp import devices_for_user, match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# Role kinds (accounts.models.RoleKind values; security sits below accounts and names them by value).
MFA_ROLES = {"province_admin", "city_admin", "district_admin"}
RECOVERY_CODES = 10


def mfa_required(user, roles=None) -> bool:
    """City, district (and province) administrators and superusers must pass a second factor."""
    if not settings.CPD_MFA_ENFORCED or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    if roles is None:
        return apps.get_model("accounts", "Role").objects.filter(user=user, kind__in=MFA_ROLES).exists()
    return any(r.kind in MFA_ROLES for r in roles)


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def totp_device(user, *, confirmed: bool | None = True) -> TOTPDevice | None:
    qs = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        qs = qs.filter(confirmed=confirmed)
    return qs.order_by("-pk").first()


def recovery_codes_issue(user) -> list[str]:
    """Replace the user's recovery codes with fresh ones; each works once."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def verify(user, code: str):
    """The device that accepts `code` (TOTP or a recovery code, consumed), or None."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    return match_token(user, code)
