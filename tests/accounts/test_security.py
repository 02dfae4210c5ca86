"""Login lockout, API tokens, production settings, the Django admin gate, password rules."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import PASSWORD, totp_code

BASE_DIR = Path(__file__).resolve().parents[2]


# --- lockout (django-axes) --------------------------------------------------------------------


def test_five_failed_logins_lock_the_account_even_for_the_right_password(world, client):
    for _ in range(4):
        response = client.post("/login/", {"username": "teacher_a1", "password": "wrong-password"})
        assert response.status_code == 200  # the form again, with an error
    # The fifth failure locks the account at once.
    response = client.post("/login/", {"username": "teacher_a1", "password": "wrong-password"})
    assert response.status_code == 429
    response = client.post("/login/", {"username": "teacher_a1", "password": PASSWORD})
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_then_the_right_password_logs_in(world, client):
    for _ in range(4):
        client.post("/login/", {"username": "teacher_a1", "password": "wrong-password"})
    response = client.post("/login/", {"username": "teacher_a1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.users["teacher_a1"].pk)


def test_lockout_of_one_user_does_not_lock_another(world, client):
    for _ in range(5):
        client.post("/login/", {"username": "teacher_a1", "password": "wrong-password"})
    response = client.post("/login/", {"username": "teacher_a2", "password": PASSWORD})
    assert response.status_code == 302


def test_token_endpoint_locks_after_five_failures(world):
    api = APIClient()
    for _ in range(4):
        response = api.post("/api/v1/auth/token/", {"username": "teacher_a1", "password": "wrong-password"}, format="json")
        assert response.status_code == 400
        assert "token" not in response.json()
    response = api.post("/api/v1/auth/token/", {"username": "teacher_a1", "password": "wrong-password"}, format="json")
    assert response.status_code == 429
    response = api.post("/api/v1/auth/token/", {"username": "teacher_a1", "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert "token" not in response.json()


def test_token_login_returns_a_token_that_works_on_me(world):
    api = APIClient()
    response = api.post("/api/v1/auth/token/", {"username": "teacher_a1", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = fresh.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "teacher_a1"
    assert me.json()["teacher"]["id"] == world.teachers["teacher_a1"].pk


def test_api_refuses_a_made_up_token(world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/v1/me/").status_code == 401


def test_inactive_user_gets_no_token(world):
    user = world.users["teacher_a1"]
    user.is_active = False
    user.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "teacher_a1", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


# --- production settings ---------------------------------------------------------------------------


def test_deploy_check_passes_with_production_settings():
    env = {
        **os.environ,
        "CPD_PRODUCTION": "1",
        "DJANGO_SECRET_KEY": "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)") for _ in range(60)),
        "DJANGO_ALLOWED_HOSTS": "cpd.example.org",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",  # production refuses to run tasks in requests
    }
    env.pop("DJANGO_DEBUG", None)
    # The browser tests set this for Playwright in the test process; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


# --- Django admin --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["school_a1_admin", "principal_a1", "district_a_admin", "teacher_a1", "provider"])
def test_admin_is_not_found_for_anyone_below_the_city(world, persona):
    assert world.client(persona).get("/admin/").status_code == 404


def test_admin_is_not_found_for_a_school_admin_even_with_the_staff_flag(world):
    user = world.users["school_a1_admin"]
    user.is_staff = True
    user.save()
    assert world.client("school_a1_admin").get("/admin/").status_code == 404
    assert world.client("school_a1_admin").get("/admin/accounts/teacher/").status_code == 404


def test_city_admin_can_use_the_admin(world):
    client = world.client("city_admin")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/organisation/").status_code == 200
    response = client.get("/admin/accounts/teacher/")
    assert response.status_code == 200
    assert world.teachers["teacher_a1"].name in response.content.decode()


def test_city_admin_cannot_make_anyone_a_superuser_in_the_admin(world):
    target = world.users["school_a1_admin"]
    client = world.client("city_admin")
    page = client.get(f"/admin/accounts/user/{target.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields


def test_city_admin_cannot_take_over_a_superusers_account(world):
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client = world.client("city_admin")
    assert client.get(f"/admin/accounts/user/{root.pk}/password/").status_code == 403
    response = client.post(
        f"/admin/accounts/user/{root.pk}/password/",
        {"password1": "Kx7#river-lantern-42", "password2": "Kx7#river-lantern-42"},
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_city_admin_role_grants_admin_permissions_only_on_the_platforms_tables(world):
    city_admin = User.objects.get(pk=world.users["city_admin"].pk)
    assert city_admin.has_perm("accounts.change_organisation")
    assert city_admin.has_module_perms("accounts")
    assert not city_admin.has_perm("auth.change_group")
    school_admin = User.objects.get(pk=world.users["school_a1_admin"].pk)
    assert not school_admin.has_perm("accounts.change_organisation")
    assert not school_admin.has_module_perms("accounts")


def test_city_admin_logs_in_through_the_admin_login_page(world, client):
    response = client.post("/admin/login/?next=/admin/", {"username": "city_admin", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    # The Django admin waits for the second factor.
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/account/mfa/verify/")
    code = totp_code(world.users["city_admin"])
    response = client.post("/account/mfa/verify/", {"code": code, "next": "/admin/"})
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_school_admin_cannot_log_in_through_the_admin_login_page(world, client):
    response = client.post("/admin/login/", {"username": "school_a1_admin", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_superuser_can_use_the_admin(db, client):
    root = User.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.post("/login/", {"username": "root", "password": PASSWORD})
    assert client.get("/admin/").status_code == 302  # the second factor first
    client.post("/account/mfa/verify/", {"code": totp_code(root)})
    assert client.get("/admin/").status_code == 200


def test_anonymous_visitor_is_sent_to_log_in(db, client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- passwords ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["12345678", "password", "short1!"])
def test_weak_passwords_are_rejected(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_reasonable_password_is_accepted():
    validate_password("Kx7#river-lantern-42")
