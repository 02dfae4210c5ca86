"""API tokens: stored hashed, expiring, revoked on logout and on request, listed by their owner."""

from __future__ import annotations

import datetime
import hashlib

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from security.models import ApiToken
from tests.conftest import PASSWORD, totp_code


def _token(username="teacher_a1", password=PASSWORD, **extra):
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _api(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_token_is_stored_only_as_a_hash(world):
    key = _token()["token"]
    row = ApiToken.objects.get(user=world.users["teacher_a1"])
    assert row.digest == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.values_list(flat=False).get(pk=row.pk)]
    assert key not in stored
    assert row.prefix in key


def test_token_works_until_it_expires(world, settings):
    settings.CPD_API_TOKEN_LIFETIME_HOURS = 24
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        body = _token()
    assert abs(
        datetime.datetime.fromisoformat(body["expires_at"]) - (issued + datetime.timedelta(hours=24))
    ) < datetime.timedelta(seconds=5)
    with time_machine.travel(issued + datetime.timedelta(hours=23), tick=False):
        assert _api(body["token"]).get("/api/v1/me/").status_code == 200
    with time_machine.travel(issued + datetime.timedelta(hours=24, minutes=1), tick=False):
        response = _api(body["token"]).get("/api/v1/me/")
        assert response.status_code == 401
        assert "过期" in response.json()["detail"]


def test_api_logout_revokes_the_token(world):
    key = _token()["token"]
    api = _api(key)
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401


def test_browser_logout_revokes_the_users_tokens(world, client):
    key = _token()["token"]
    client.post("/login/", {"username": "teacher_a1", "password": PASSWORD})
    client.post("/logout/")
    assert _api(key).get("/api/v1/me/").status_code == 401


def test_owner_lists_and_revokes_tokens_through_the_api(world):
    first = _token(name="script")
    second = _token()
    api = _api(second["token"])
    listing = api.get("/api/v1/auth/tokens/").json()["results"]
    assert {t["prefix"] for t in listing} == {first["prefix"], second["prefix"]}
    assert all("token" not in t and "digest" not in t for t in listing)
    first_id = next(t["id"] for t in listing if t["prefix"] == first["prefix"])
    revoked = api.post(f"/api/v1/auth/tokens/{first_id}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["is_live"] is False
    assert _api(first["token"]).get("/api/v1/me/").status_code == 401
    assert api.get("/api/v1/me/").status_code == 200


def test_nobody_sees_or_revokes_another_users_tokens(world):
    theirs = _token("teacher_a2")
    mine = _api(_token()["token"])
    their_id = ApiToken.objects.get(prefix=theirs["prefix"]).pk
    assert mine.get("/api/v1/auth/tokens/").json()["count"] == 1
    assert mine.post(f"/api/v1/auth/tokens/{their_id}/revoke/").status_code == 404
    assert _api(theirs["token"]).get("/api/v1/me/").status_code == 200


def test_token_page_creates_shows_once_and_revokes(world):
    client = world.client("teacher_a1")
    response = client.post("/account/tokens/", {"name": "成绩同步"})
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert _api(key).get("/api/v1/me/").status_code == 200
    page = client.get("/account/tokens/").content.decode()
    assert key not in page
    assert "成绩同步" in page
    token = ApiToken.objects.get(user=world.users["teacher_a1"])
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert _api(key).get("/api/v1/me/").status_code == 401
    assert "已撤销" in client.get("/account/tokens/").content.decode()


def test_administrator_needs_the_second_factor_for_a_token(world):
    api = APIClient()
    url = "/api/v1/auth/token/"
    # No authenticator bound yet: enrol in the browser first.
    assert api.post(url, {"username": "city_admin", "password": PASSWORD}, format="json").status_code == 403
    code = totp_code(world.users["city_admin"])  # binds the test authenticator
    missing = api.post(url, {"username": "city_admin", "password": PASSWORD}, format="json")
    assert missing.status_code == 400
    assert "otp" in missing.json()
    wrong = api.post(
        url, {"username": "city_admin", "password": PASSWORD, "otp": "000000" if code != "000000" else "111111"}, format="json"
    )
    assert wrong.status_code == 400
    # django-otp slows guessing: after a wrong code the device waits a second before it checks again.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3), tick=False):
        key = _token("city_admin", otp=totp_code(world.users["city_admin"]))["token"]
        assert _api(key).get("/api/v1/me/").status_code == 200
