"""The teacher's and the school's homes cost a fixed, small number of statements (they were 26 and 18 in
bench_pages at 200,000 teachers): the card reads this and last year's deadlines in one row set and no
exchange window or notice for a declaration deadline; the school's to-dos and workspace do not ask twice
whether the roster is overdue, and the returned declarations' years and count come from one statement."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from hours.models import Declaration, DeclarationState
from points.models import ExchangeWindow

from .test_compliance_card import _short_teacher


def _statements(client, url="/"):
    client.get(url)  # per-process caches warm
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_a_short_teachers_home_with_its_deadline_and_gap_costs_16_statements(world, june, policy_2026):
    _short_teacher(world)
    ExchangeWindow.objects.create(year=2026, opens_on=datetime.date(2026, 1, 1), closes_on=datetime.date(2026, 11, 30))
    n, response = _statements(world.client("teacher_a1"))
    card = response.context["card"]
    assert card.deadline.kind == "declaration" and card.deadline.date == datetime.date(2026, 12, 31)
    assert card.missing_categories  # the gap's projects, courses and points were read too
    # session, user, roles, teacher, policy, 3 figures, 1 deadlines, returned, 1 history (each result with its
    # year's finalisation and review deadline), 2 gap, the exchange window, 1 points (balance, hold, hours
    # requested: cpd.batch), unread
    assert n == 16, n


def test_a_school_admins_home_costs_11_statements_and_shows_the_roster_overdue(world, june):
    t = world.teachers["teacher_a1"]
    Declaration.objects.create(
        teacher=t,
        year=2026,
        category="elective",
        activity_type="conference",
        title="退回的申报",
        organiser="某会",
        start_date=datetime.date(2026, 5, 1),
        end_date=datetime.date(2026, 5, 1),
        hours=6,
        state=DeclarationState.RETURNED,
    )
    n, response = _statements(world.client("school_a1_admin"))
    items = {i.key: i for i in response.context["todos"]}
    assert items["returned"].count == 1 and items["returned"].deadline == datetime.date(2027, 1, 31)
    assert items["roster"].count == 1 and response.context["overdue"] is True  # never confirmed
    assert 'data-testid="confirm-overdue"' in response.content.decode()
    # session, user, roles; the queue's years, the returned per year, their deadline, the roster; one statement for
    # the pending exchange requests, the exchange window, the notice's four probes and the registration complaints
    # (cpd.batch); the workspace's counts and last confirmation; unread notifications
    assert n == 11, n
