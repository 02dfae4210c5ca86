"""Models of the platform itself (below every app): the external platforms that call the API."""

from __future__ import annotations

from django.db import models


class PlatformClient(models.Model):
    """An external platform that calls the API with its own key (online learning, online research points)."""

    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "hours_platformclient"

    def __str__(self) -> str:
        return self.name
