"""Settings fail loudly: a value they cannot read, or a production deployment without a broker,
stops the process at start instead of running with a silent default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CPD_", "DJANGO_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "-c", "import cpd.settings"],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("value", ["ture", "2", "enabled"])
def test_an_unreadable_boolean_is_refused_naming_the_variable(value):
    result = _load_settings(AXES_ENABLED=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "AXES_ENABLED" in result.stderr


@pytest.mark.parametrize("value", ["0", "false", "No", "off", "1", "TRUE", "yes", "on", ""])
def test_the_usual_spellings_of_a_boolean_are_read(value):
    assert _load_settings(AXES_ENABLED=value).returncode == 0


def test_production_without_a_broker_is_refused():
    result = _load_settings(CPD_PRODUCTION="1", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "CELERY_BROKER_URL" in result.stderr


def test_production_with_a_broker_starts():
    result = _load_settings(CPD_PRODUCTION="1", DJANGO_SECRET_KEY="x" * 60, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr


def test_an_unknown_regime_is_refused():
    result = _load_settings(CPD_REGIME="yearly")
    assert result.returncode != 0 and "CPD_REGIME" in result.stderr


def _database_settings(**env: str) -> dict:
    probe = (
        "import json, cpd.settings as s; d = s.DATABASES['default']; "
        "print(json.dumps({k: d.get(k) for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'DISABLE_SERVER_SIDE_CURSORS')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CPD_", "DJANGO_", "CELERY_", "DB_"))}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PRODUCTION = {
    "CPD_PRODUCTION": "1",
    "DJANGO_SECRET_KEY": "x" * 60,
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "DATABASE_URL": "postgres://cpd:cpd@db.invalid:5432/cpd",
}


def test_production_keeps_database_connections_and_checks_them_before_reuse():
    # A new PostgreSQL connection per request cost 2.6× the ceiling's throughput (docs/scale.md); a kept one
    # that the database dropped (restart, PgBouncer's server_idle_timeout) is checked, not used blind.
    db = _database_settings(**PRODUCTION)
    assert db["CONN_MAX_AGE"] >= 60 and db["CONN_HEALTH_CHECKS"] is True
    # Server-side cursors stay on unless the deployment says it pools in transaction mode.
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_behind_pgbouncer_in_transaction_mode_server_side_cursors_are_turned_off():
    db = _database_settings(**PRODUCTION, DB_DISABLE_SERVER_SIDE_CURSORS="1")
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert db["CONN_MAX_AGE"] >= 60 and db["CONN_HEALTH_CHECKS"] is True
