"""Login throttling: one username from many addresses, and many usernames from one address."""

from __future__ import annotations

from django.test import Client

from tests.conftest import PASSWORD


def _post(client, username, password, ip):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_one_username_tried_from_many_addresses_is_locked(world):
    client = Client()
    for i in range(5):
        assert _post(client, "teacher_a1", "wrong-password", f"10.0.0.{i + 1}").status_code in (200, 429)
    # From a sixth address, even the right password is refused.
    response = _post(client, "teacher_a1", PASSWORD, "10.0.0.99")
    assert response.status_code == 429
    # Other users are not affected.
    assert _post(Client(), "teacher_a2", PASSWORD, "10.0.0.99").status_code == 302


def test_password_spraying_from_one_address_is_locked(world, settings):
    settings.CPD_LOGIN_IP_FAILURE_LIMIT = 20
    client = Client()
    usernames = [u for u in world.users if u != "teacher_b1"]
    attempts = 0
    # One guess per username (never five for any one), round after round, as a sprayer would.
    while attempts < 19:
        for username in usernames:
            if attempts == 19:
                break
            assert _post(client, username, f"Spring{attempts}!", "10.9.9.9").status_code == 200
            attempts += 1
    assert _post(client, "teacher_b1", "Guess-2026!", "10.9.9.9").status_code == 429
    # The address is locked for everyone, the right password included; other addresses are not.
    assert _post(Client(), "teacher_b1", PASSWORD, "10.9.9.9").status_code == 429
    assert _post(Client(), "teacher_b1", PASSWORD, "10.8.8.8").status_code == 302


def test_a_school_behind_one_address_survives_a_few_typos(world):
    """Teachers share their school's address: a handful of typos there locks no one else."""
    for username in ["teacher_a1", "teacher_a2", "teacher_b1", "teacher_c1"]:
        _post(Client(), username, "typo", "10.1.1.1")
        _post(Client(), username, "typo", "10.1.1.1")
    assert _post(Client(), "school_a1_admin", PASSWORD, "10.1.1.1").status_code == 302
