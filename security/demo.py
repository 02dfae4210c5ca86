"""The demo administrators' second factor: one fixed, published TOTP secret (demo only)."""

from __future__ import annotations

import base64

from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from .mfa import mfa_required

# 20 bytes, public on purpose: anyone running the demo must be able to pass the second factor.
DEMO_TOTP_KEY = "6370642d64656d6f2d746f74702d323032362121"
DEMO_DEVICE_NAME = "demo"


def demo_totp_secret() -> str:
    """The base32 form an authenticator app asks for."""
    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()


def seed_demo_mfa(usernames: list[str]) -> list[str]:
    """Bind the demo secret to every demo user who must pass a second factor; returns their usernames."""
    bound = []
    for user in get_user_model().objects.filter(username__in=usernames).order_by("username"):
        if not mfa_required(user):
            continue
        TOTPDevice.objects.filter(user=user).exclude(name=DEMO_DEVICE_NAME).delete()
        TOTPDevice.objects.update_or_create(user=user, name=DEMO_DEVICE_NAME, defaults={"key": DEMO_TOTP_KEY, "confirmed": True})
        bound.append(user.username)
    return bound
