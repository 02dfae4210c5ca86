"""The OpenAPI schema is served and valid, without warnings (drf-spectacular)."""

from __future__ import annotations

import io

import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_lists_the_accounts_endpoints(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/teachers/{id}/transfer/", "/api/v1/roster-imports/"):
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/api/v1/teachers/{id}/transfer/"]


def test_schema_validates_without_warnings(db):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/me/" in out.getvalue()
