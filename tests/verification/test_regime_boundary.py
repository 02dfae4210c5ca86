"""An annual deployment (the default) has none of the five-year cycle: the app is not installed, no
cycle address resolves, no cycle beat task is scheduled. The cycle side is in
tests/cycles/test_regime_boundary.py (run by `CPD_REGIME=cycle pytest -m cycle`)."""

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

CYCLE_PATHS = [
    "/verification/cycle/",
    "/verification/cycle/certificate/",
    "/verification/cycle/certificate/ABC.pdf",
    "/verification/cycle/statistics/",
    "/certificates/verify/",
    "/api/v1/cycle/",
    "/api/v1/cycle/certificates/",
    "/api/v1/cycle-statistics/",
]


def test_this_suite_runs_an_annual_deployment():
    assert settings.CPD_REGIME == "annual"
    assert not apps.is_installed("cycles")


@pytest.mark.parametrize("path", CYCLE_PATHS)
def test_no_cycle_address_resolves_in_an_annual_deployment(path):
    with pytest.raises(Resolver404):
        resolve(path)


@pytest.mark.parametrize("name", ["my_cycle", "certificate_issue", "cycle_statistics", "certificate_verify", "api_my_cycle"])
def test_no_cycle_page_can_be_linked_in_an_annual_deployment(name):
    with pytest.raises(NoReverseMatch):
        reverse(name)


def test_the_annual_beat_task_is_scheduled_and_no_cycle_task():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "verification.tasks.auto_verify_due" in tasks
    assert not any(task.startswith("cycles.") for task in tasks)


def test_the_annual_year_policies_are_seeded(db):
    from verification.models import YearPolicy

    assert YearPolicy.objects.filter(year=2022, carry_rule="2022").exists()
