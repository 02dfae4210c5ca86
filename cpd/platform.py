"""External platforms (online learning, online research) call the API with their own key:
`Authorization: Platform <key>`. The key is stored hashed (`cpd.models.PlatformClient`)."""

from __future__ import annotations

import hashlib
import secrets

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import PlatformClient


def platform_client_create(*, name: str) -> tuple[PlatformClient, str]:
    """Issue a key for an external platform; only its hash is stored. Returns the key once."""
    key = secrets.token_urlsafe(32)
    client = PlatformClient.objects.create(name=name, key_prefix=key[:8], key_hash=hashlib.sha256(key.encode()).hexdigest())
    return client, key


def platform_client_for_key(key: str) -> PlatformClient | None:
    if not key:
        return None
    return PlatformClient.objects.filter(key_hash=hashlib.sha256(key.encode()).hexdigest(), is_active=True).first()


class PlatformKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Platform <key>`: an external platform's key (stored hashed)."""

    keyword = "Platform"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Expected 'Authorization: Platform <key>'.")
        client = platform_client_for_key(parts[1])
        if client is None:
            raise exceptions.AuthenticationFailed("Unknown or inactive platform key.")
        return (None, client)

    def authenticate_header(self, request):
        return self.keyword


class PlatformKeyScheme(OpenApiAuthenticationExtension):
    """Documents the platform key in the OpenAPI schema."""

    target_class = "cpd.platform.PlatformKeyAuthentication"
    name = "PlatformKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Platform <key>"}
