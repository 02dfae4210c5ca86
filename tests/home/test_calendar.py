"""The deadlines page and the personal iCalendar feed (secret URL, no login, revocable)."""

from __future__ import annotations

import datetime

from django.test import Client
from icalendar import Calendar

from home.models import UserPreference
from points.models import ExchangeWindow

from .conftest import at


def _kinds(response):
    return [r["d"].kind for r in response.context["rows"]]


def test_teacher_calendar_lists_the_deadlines_that_matter_to_teachers(world):
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 3, 1), closes_on=datetime.date(2026, 11, 30))
    with at(2026, 6, 15):
        response = world.client("teacher_a1").get("/calendar/")
    kinds = _kinds(response)
    assert {"declaration", "school_review", "exchange_opens", "exchange_closes"} <= set(kinds)
    assert "district_review" not in kinds
    html = response.content.decode()
    assert "2026-12-31" in html and 'data-testid="deadline-declaration"' in html


def test_reviewers_and_organisers_see_their_deadlines(world):
    with at(2026, 6, 15):
        district = _kinds(world.client("district_a_admin").get("/calendar/"))
        provider = _kinds(world.client("provider").get("/calendar/"))
    assert "district_review" in district and "declaration" not in district
    assert {"registration", "registration_school", "extension"} <= set(provider)


def test_feed_needs_no_login_and_carries_the_deadlines(world):
    client = world.client("teacher_a1")
    client.post("/calendar/token/", {"action": "renew"})
    token = UserPreference.objects.get(user=world.users["teacher_a1"]).calendar_token
    with at(2026, 6, 15):
        page = client.get("/calendar/")
        assert f"/calendar/feed/{token}.ics" in page.context["feed_url"]
        response = Client().get(f"/calendar/feed/{token}.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert events["2026:declaration@cpd"].decoded("dtstart") == datetime.date(2026, 12, 31)
    assert str(events["2026:declaration@cpd"]["summary"]) == "学时申报截止"


def test_renewing_revokes_the_old_feed_url_and_revoke_stops_it(world):
    client = world.client("teacher_a1")
    client.post("/calendar/token/", {"action": "renew"})
    old = UserPreference.objects.get(user=world.users["teacher_a1"]).calendar_token
    client.post("/calendar/token/", {"action": "renew"})
    new = UserPreference.objects.get(user=world.users["teacher_a1"]).calendar_token
    assert old != new
    assert Client().get(f"/calendar/feed/{old}.ics").status_code == 404
    assert Client().get(f"/calendar/feed/{new}.ics").status_code == 200
    client.post("/calendar/token/", {"action": "revoke"})
    assert Client().get(f"/calendar/feed/{new}.ics").status_code == 404


def test_unknown_feed_secret_is_404(db):
    assert Client().get("/calendar/feed/nope.ics").status_code == 404
