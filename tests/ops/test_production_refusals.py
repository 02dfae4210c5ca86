"""A production process refuses what the public demo made known: its secret key, platform key and logins."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from accounts.models import User
from cpd.models import PlatformClient
from cpd.production import DEMO_PASSWORD, DEMO_PLATFORM_KEY, unsafe_start_reasons

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(name: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CPD_PRODUCTION"))}
    code = f"import django; django.setup(); from django.conf import settings; print(repr(getattr(settings, {name!r}, None)))"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # A production deployment needs a broker (settings refuse to start without one).
        env={**clean, "DJANGO_SETTINGS_MODULE": "cpd.settings", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("key", [None, "", "dev-only-insecure-key-change-me-in-production"])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    env = {"CPD_PRODUCTION": "1"}
    if key is not None:
        env["DJANGO_SECRET_KEY"] = key
    result = _settings_value("SECRET_KEY", **env)
    assert result.returncode != 0
    assert "refuses to start without a real DJANGO_SECRET_KEY" in result.stderr


def test_forwarded_protocol_header_is_trusted_only_when_configured():
    key = "k" * 20 + "real-production-secret-0123456789-abcdefgh"
    broker = "redis://127.0.0.1:6379/0"  # production refuses to run tasks in web requests
    untrusted = _settings_value("SECURE_PROXY_SSL_HEADER", CPD_PRODUCTION="1", DJANGO_SECRET_KEY=key, CELERY_BROKER_URL=broker)
    assert untrusted.returncode == 0, untrusted.stderr
    assert untrusted.stdout.strip() == "None"
    trusted = _settings_value(
        "SECURE_PROXY_SSL_HEADER",
        CPD_PRODUCTION="1",
        DJANGO_SECRET_KEY=key,
        CELERY_BROKER_URL=broker,
        DJANGO_TRUST_X_FORWARDED_PROTO="1",
    )
    assert trusted.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_clean_production_database_may_start(db, settings, world):
    settings.PRODUCTION = True
    assert unsafe_start_reasons() == []


def test_production_refuses_the_demo_platform_key(db, settings):
    settings.PRODUCTION = True
    PlatformClient.objects.create(
        name="演示网络学习平台", key_prefix=DEMO_PLATFORM_KEY[:8], key_hash=hashlib.sha256(DEMO_PLATFORM_KEY.encode()).hexdigest()
    )
    assert any("platform key" in r for r in unsafe_start_reasons())


def test_production_refuses_demo_users_but_not_a_real_user_named_like_one(db, settings):
    settings.PRODUCTION = True
    User.objects.create_user(username="city", password="a-real-Passw0rd-of-the-city")
    assert unsafe_start_reasons() == []
    User.objects.create_user(username="teacher", password=DEMO_PASSWORD)
    assert unsafe_start_reasons() == ["demo users with the demo password are active: teacher"]


def test_gunicorns_application_module_refuses_a_demo_database(db, settings):
    settings.PRODUCTION = True
    User.objects.create_user(username="school", password=DEMO_PASSWORD)
    sys.modules.pop("cpd.wsgi", None)
    with pytest.raises(ImproperlyConfigured, match="demo users"):
        importlib.import_module("cpd.wsgi")
    sys.modules.pop("cpd.wsgi", None)


def test_the_celery_worker_and_beat_refuse_a_demo_database(db, settings):
    from celery import signals

    from cpd.celery import _refuse_unsafe_start

    # Connected to both start signals (sent alone here: Celery's Django fixup, also a receiver, closes
    # the database connection the test runs in).
    for signal in (signals.worker_init, signals.beat_init):
        assert _refuse_unsafe_start in signal._live_receivers(None)
    settings.PRODUCTION = True
    User.objects.create_user(username="school", password=DEMO_PASSWORD)
    with pytest.raises(SystemExit, match="demo users"):
        _refuse_unsafe_start()


def test_seed_demo_refuses_in_production(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="CPD_PRODUCTION"):
        call_command("seed_demo")
    assert not User.objects.exists()
