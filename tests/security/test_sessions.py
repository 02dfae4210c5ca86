"""Session idle timeout and absolute lifetime, under a frozen clock."""

from __future__ import annotations

import datetime

import time_machine
from django.test import Client

from security.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _log_in(username="teacher_a1") -> Client:
    client = Client()
    assert client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return client


def test_idle_session_ends_after_thirty_minutes(world, settings):
    settings.CPD_SESSION_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as clock:
        client = _log_in()
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=29))  # active 29 minutes ago: still in
        assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get("/hours/")
        assert response.status_code == 302
        assert response.url.startswith("/login/?next=")
        assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(event="logout", actor_username="teacher_a1", details__reason="timeout").exists()


def test_session_ends_after_its_absolute_lifetime_even_when_active(world, settings):
    settings.CPD_SESSION_IDLE_MINUTES = 30
    settings.CPD_SESSION_MAX_HOURS = 12
    with time_machine.travel(START, tick=False) as clock:
        client = _log_in()
        for _ in range(11 * 3):  # a request every 20 minutes for 11 hours
            clock.shift(datetime.timedelta(minutes=20))
            assert client.get("/").status_code == 200
        clock.shift(datetime.timedelta(hours=1, minutes=1))
        assert client.get("/").status_code == 302


def test_api_session_times_out_too(world, settings):
    settings.CPD_SESSION_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as clock:
        client = _log_in()
        assert client.get("/api/v1/me/").status_code == 200
        clock.shift(datetime.timedelta(minutes=31))
        assert client.get("/api/v1/me/").status_code == 401


def test_timeout_does_not_revoke_api_tokens(world, settings):
    """A token's own lifetime governs it; only an explicit logout revokes it."""
    settings.CPD_SESSION_IDLE_MINUTES = 30
    with time_machine.travel(START, tick=False) as clock:
        client = _log_in()
        client.post("/account/tokens/", {"name": "x"})
        clock.shift(datetime.timedelta(minutes=31))
        client.get("/")
        assert ApiToken.objects.live().filter(user__username="teacher_a1").count() == 1
