"""A cycle deployment (CPD_REGIME=cycle) has none of the annual verification: no address resolves,
no beat task is scheduled, the engine refuses to run. The annual side is in
tests/verification/test_regime_boundary.py."""

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from cpd.errors import StateConflict
from verification import services

pytestmark = pytest.mark.cycle

ANNUAL_PATHS = [
    "/verification/policies/",
    "/verification/runs/",
    "/verification/runs/1/",
    "/verification/my/",
    "/verification/results/",
    "/verification/notice/",
    "/verification/statistics/",
    "/verification/exports/",
    "/api/v1/verification-runs/",
    "/api/v1/results/",
    "/api/v1/policies/",
    "/api/v1/statistics/",
]
ANNUAL_NAMES = ["policy_list", "run_list", "my_results", "result_list", "notice", "statistics", "export_list", "api_statistics"]


@pytest.mark.parametrize("path", ANNUAL_PATHS)
def test_no_annual_address_resolves_in_a_cycle_deployment(path):
    with pytest.raises(Resolver404):
        resolve(path)


@pytest.mark.parametrize("name", ANNUAL_NAMES)
def test_no_annual_page_can_be_linked_in_a_cycle_deployment(name):
    with pytest.raises(NoReverseMatch):
        reverse(name)


def test_the_cycle_pages_and_api_resolve():
    for path in ("/verification/cycle/", "/verification/cycle/statistics/", "/certificates/verify/", "/api/v1/cycle/"):
        resolve(path)
    assert "cycles" in settings.INSTALLED_APPS


def test_the_annual_beat_task_is_not_scheduled_but_the_cycle_one_is():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "verification.tasks.auto_verify_due" not in tasks
    assert "cycles.tasks.open_due_cycles" in tasks


def test_the_annual_engine_refuses_to_run(db):
    with pytest.raises(StateConflict):
        services.run_start(role=None, actor=None, year=2025, inline=True)
    with pytest.raises(StateConflict):
        services.auto_verify_due()
    with pytest.raises(CommandError, match="五年周期"):
        call_command("verify_year", "2025")


def test_no_annual_year_policy_is_seeded(db):
    from verification.models import YearPolicy

    assert not YearPolicy.objects.exists()


def test_the_teachers_menu_speaks_of_the_cycle(world):
    html = world.client("teacher_a1").get("/").content.decode()
    assert "/verification/cycle/" in html and "/verification/my/" not in html


@pytest.mark.parametrize(
    "persona", ["teacher_a1", "school_a1_admin", "principal_a1", "district_a_admin", "city_admin", "provider"]
)
def test_every_home_page_opens_without_annual_links(world, persona):
    response = world.client(persona).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for annual in ("/verification/runs/", "/verification/notice/", "/verification/my/", "/verification/policies/"):
        assert annual not in html, annual
