"""Provisional (试算) and final runs (SPEC §9): before the year's last review deadline a run is only a
trial that administrators see and teachers never see as a verdict; the final run waits for the deadline."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from cpd.errors import StateConflict
from hours.models import Year
from verification import services
from verification.models import VerificationRun, YearPolicy

from .conftest import CST, give

IN_YEAR = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=CST)  # 2026's district review closes 2027-02-28
AFTER = datetime.datetime(2027, 3, 1, 9, 0, tzinfo=CST)


@pytest.fixture
def year_2026(world):
    YearPolicy.objects.get_or_create(
        year=2026,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    Year.objects.update_or_create(year=2026, defaults=Year.defaults_for(2026))
    give(world.teachers["teacher_a1"], 2026, public=30, professional=50, elective=18)  # would pass
    give(world.teachers["teacher_a2"], 2026, public=10)  # would fail
    return world


def _start(world, **kwargs):
    return services.run_start(role=world.roles["city_admin"], actor=world.users["city_admin"], year=2026, inline=True, **kwargs)


def _teacher_sees(world, persona="teacher_a1"):
    html = world.client(persona).get("/verification/my/").content.decode()
    api = world.api(persona).get("/api/v1/results/").json()
    rows = api["results"] if isinstance(api, dict) else api
    return ('data-testid="status-2026"' in html), [r["year"] for r in rows]


def test_a_run_before_the_last_review_deadline_is_provisional_and_hidden_from_teachers(year_2026):
    world = year_2026
    with time_machine.travel(IN_YEAR, tick=False):
        run = _start(world)
        assert run.provisional and run.status == "done"
        assert _teacher_sees(world) == (False, [])
        assert _teacher_sees(world, "teacher_a2") == (False, [])
        admin_results = world.client("city_admin").get("/verification/results/?year=2026").content.decode()
        assert 'data-testid="provisional-note"' in admin_results and "育才小学老师" in admin_results
        row = admin_results[admin_results.index("育才小学老师") :].split("</tr>")[0]
        assert '<span class="badge provisional">试算</span>' in row  # each row of a trial run says so
        runs = world.client("city_admin").get("/verification/runs/").content.decode()
        assert 'data-testid="provisional"' in runs
        api_run = world.api("city_admin").get(f"/api/v1/verification-runs/{run.pk}/").json()
        assert api_run["provisional"] is True


def test_the_final_run_is_refused_before_the_last_review_deadline(year_2026):
    world = year_2026
    with time_machine.travel(IN_YEAR, tick=False):
        with pytest.raises(StateConflict, match="2027-02-28"):
            _start(world, provisional=False)
        api = world.api("city_admin").post("/api/v1/verification-runs/", {"year": 2026, "provisional": False}, format="json")
        page = world.client("city_admin").post("/verification/runs/", {"year": 2026, "kind": "final"}, follow=True)
    assert api.status_code == 409
    assert "2027-02-28" in page.content.decode()
    assert not VerificationRun.objects.exists()


def test_after_the_deadline_the_final_run_replaces_the_provisional_results_and_teachers_see_it(year_2026):
    world = year_2026
    with time_machine.travel(IN_YEAR, tick=False):
        _start(world, provisional=True)
    with time_machine.travel(AFTER, tick=False):
        with pytest.raises(StateConflict):
            _start(world, provisional=True)  # would hide the final results again
        run = _start(world)
        assert not run.provisional
        assert _teacher_sees(world) == (True, [2026])
        html = world.client("teacher_a2").get("/verification/my/").content.decode()
        assert 'data-testid="status-2026">不合格<' in html
        admin_results = world.client("city_admin").get("/verification/results/?year=2026").content.decode()
        assert "育才小学老师" in admin_results and "badge provisional" not in admin_results  # the final run's rows


def test_provisional_results_cannot_be_published_or_complained_about(year_2026):
    world = year_2026
    with time_machine.travel(IN_YEAR, tick=False):
        _start(world)
        with pytest.raises(StateConflict):
            services.notice_publish(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], year=2026)
        response = world.client("school_a1_admin").post("/verification/notice/", {"year": 2026, "action": "publish"}, follow=True)
    assert "试算" in response.content.decode()
