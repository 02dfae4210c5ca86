"""Password rules, the change page and API, and the forced change of an issued password."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from accounts.models import User
from demo.accounts import DEMO_PASSWORD
from security.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "password",
    ["abcdefgh", "abcd1234", "ABCDabcd", "Ab1!", "12345678", "password1", "Aa1-"],
    ids=["one-class", "two-classes", "two-cases", "short", "numeric", "common", "short-four-classes"],
)
def test_weak_passwords_are_refused(db, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=User(username="li.ming"))


@pytest.mark.parametrize("password", ["Qingshan7Lu", "lan-tian-2026", "Zhong!Guo-hao"])
def test_passwords_of_three_classes_and_eight_characters_pass(db, password):
    validate_password(password, user=User(username="li.ming"))


def test_the_demo_password_passes_the_rules(db):
    validate_password(DEMO_PASSWORD, user=User(username="city", name="市管理员"))


def test_password_too_like_the_username_is_refused(db):
    with pytest.raises(ValidationError):
        validate_password("Wangxiaoming1", user=User(username="wangxiaoming"))


def test_header_links_to_the_password_page(world):
    html = world.client("teacher_a1").get("/").content.decode()
    assert 'href="/account/password/"' in html


def test_change_password_page_refuses_a_weak_password_and_keeps_the_old_one(world):
    client = world.client("teacher_a1")
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "abcdefgh", "new_password2": "abcdefgh"}
    )
    assert response.status_code == 200
    assert "至少3类" in response.content.decode()
    user = User.objects.get(username="teacher_a1")
    assert user.check_password(PASSWORD)


def test_change_password_page_changes_it_and_keeps_the_session(world):
    client = world.client("teacher_a1")
    response = client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "Nan-hua-2027", "new_password2": "Nan-hua-2027"}
    )
    assert response.status_code == 302
    assert User.objects.get(username="teacher_a1").check_password("Nan-hua-2027")
    assert client.get("/").status_code == 200  # still logged in
    assert AuditEvent.objects.filter(event="password_change", actor_username="teacher_a1").count() == 1


def test_change_password_api(world):
    api = APIClient()
    token = api.post("/api/v1/auth/token/", {"username": "teacher_a1", "password": PASSWORD}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    weak = api.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "12345678"}, format="json")
    assert weak.status_code == 400
    assert "new_password" in weak.json()
    wrong = api.post("/api/v1/auth/password/", {"old_password": "nope", "new_password": "Nan-hua-2027"}, format="json")
    assert wrong.status_code == 400
    assert "old_password" in wrong.json()
    ok = api.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "Nan-hua-2027"}, format="json")
    assert ok.status_code == 204
    # The token that changed it is revoked with all the others.
    assert api.get("/api/v1/me/").status_code == 401
    assert not ApiToken.objects.live().filter(user__username="teacher_a1").exists()


def _issue_login(world):
    teacher = world.teachers["teacher_a1"]
    response = world.client("school_a1_admin").post(f"/roster/{teacher.pk}/login/")
    assert response.status_code == 200
    return response.context["username"], response.context["password"]


def test_issued_password_must_be_changed_at_first_login(world, client):
    username, password = _issue_login(world)
    assert User.objects.get(username=username).must_change_password
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302
    # Every page sends the teacher to the password page first.
    response = client.get("/hours/")
    assert response.status_code == 302
    assert response.url == "/account/password/"
    page = client.get("/account/password/").content.decode()
    assert 'data-testid="must-change"' in page
    client.post("/account/password/", {"old_password": password, "new_password1": "Yu-cai-2027", "new_password2": "Yu-cai-2027"})
    assert not User.objects.get(username=username).must_change_password
    assert client.get("/").status_code == 200


def test_issued_password_api_answers_403_with_a_message_until_changed(world):
    username, password = _issue_login(world)
    api = APIClient()
    response = api.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 403
    assert "修改初始密码" in me.json()["detail"]
    changed = api.post("/api/v1/auth/password/", {"old_password": password, "new_password": "Yu-cai-2027"}, format="json")
    assert changed.status_code == 204
    token = api.post("/api/v1/auth/token/", {"username": username, "password": "Yu-cai-2027"}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/me/").status_code == 200


def test_password_set_in_the_django_admin_must_be_changed_at_next_login(world, client):
    target = world.users["teacher_a2"]
    admin = world.client("city_admin")
    response = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": "Set-by-admin-2026", "password2": "Set-by-admin-2026", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert target.must_change_password
    assert AuditEvent.objects.filter(event="password_issued", actor_username="city_admin").exists()
    client.post("/login/", {"username": "teacher_a2", "password": "Set-by-admin-2026"})
    assert client.get("/").url == "/account/password/"
