"""An area home's roster figures (its schools, the overdue ones and its "late" to-do) are read at most every
ROSTER_OVERVIEW_SECONDS per area (accounts.selectors.roster_overview): a second home within that time asks
fewer statements and shows the same; a school confirming its roster, or a school written, shows at once in
this process; after that long the figures are read again even without a write."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts import services as account_services
from accounts.models import RosterConfirmation


def _home(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    items = {i.key: i for i in response.context["todos"]}
    return len(ctx.captured_queries), response.context, items


def test_the_second_home_reads_the_cached_overview_and_shows_the_same(world, june):
    client = world.client("district_a_admin")
    first_n, first, first_items = _home(client)
    n, again, items = _home(client)
    # the school counts and the overdue schools' list and ids: three statements fewer
    assert n == first_n - 3
    assert (again["school_count"], again["overdue_count"]) == (first["school_count"], first["overdue_count"]) == (2, 2)
    assert [s.pk for s in again["overdue_schools"]] == [s.pk for s in first["overdue_schools"]]
    assert items["late"].count == first_items["late"].count == 2


def test_a_confirmation_shows_at_once_on_the_district_and_city_homes(world, june):
    district, city = world.client("district_a_admin"), world.client("city_admin")
    assert _home(district)[1]["overdue_count"] == 2
    city_overdue = _home(city)[1]["overdue_count"]
    account_services.roster_confirm(role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"])
    _n, context, items = _home(district)
    assert context["overdue_count"] == 1 and items["late"].count == 1
    assert world.school_a1.pk not in [s.pk for s in context["overdue_schools"]]
    assert _home(city)[1]["overdue_count"] == city_overdue - 1


def test_a_school_closed_shows_at_once(world, june):
    district = world.client("district_a_admin")
    assert _home(district)[1]["school_count"] == 2
    account_services.organisation_update(role=world.roles["city_admin"], organisation=world.school_a2, data={"is_active": False})
    _n, context, _items = _home(district)
    assert (context["school_count"], context["overdue_count"]) == (1, 1)


def test_after_the_cache_time_the_figures_are_read_again(world, june):
    """A write the signal does not see (a bulk update) shows once the overview's time has passed."""
    district = world.client("district_a_admin")
    assert _home(district)[1]["overdue_count"] == 2
    RosterConfirmation.objects.bulk_create([RosterConfirmation(school=world.school_a1, active_teachers=1)])
    assert _home(district)[1]["overdue_count"] == 2  # cached, as said
    june.shift(datetime.timedelta(seconds=selectors.ROSTER_OVERVIEW_SECONDS + 1))
    assert _home(district)[1]["overdue_count"] == 1
