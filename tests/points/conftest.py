"""Points bank fixtures: a frozen day inside the 2026 exchange window, earning rules, and helpers
that give a teacher points and check the ledger's invariants."""

from __future__ import annotations

import datetime
import itertools

import pytest
import time_machine
from django.db.models import Sum
from django.utils import timezone

from points import services
from points.models import EarningRule, ExchangeRequest, ExchangeWindow, PointsAccount, PointsEntry, RequestState

TZ = datetime.timezone(datetime.timedelta(hours=8))
YEAR = 2026
WINDOW = (datetime.date(2026, 3, 1), datetime.date(2026, 11, 30))
_events = itertools.count(1)


def at(day: datetime.date, hour: int = 10):
    """Freeze the clock at `day` (Beijing time)."""
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ), tick=False)


@pytest.fixture
def in_window():
    """2026-06-15, inside the 2026 exchange window (1 March – 30 November)."""
    with at(datetime.date(2026, 6, 15)) as t:
        yield t


@pytest.fixture
def window(db):
    return ExchangeWindow.objects.create(year=YEAR, opens_on=WINDOW[0], closes_on=WINDOW[1])


@pytest.fixture
def hundred(db) -> EarningRule:
    """A rule without limits worth 100 points (one hour's worth) per event."""
    return EarningRule.objects.create(action_code="lesson", name="上传优质课例", points=100)


def earn(teacher, points: int, *, rule: EarningRule | None = None, on: datetime.date | None = None) -> None:
    """Give `teacher` `points` (a multiple of the rule's points) through the platform-event service."""
    rule = rule or EarningRule.objects.get_or_create(action_code="lesson", defaults={"name": "上传优质课例", "points": 100})[0]
    assert points % rule.points == 0
    for _ in range(points // rule.points):
        event = services.points_earn(
            event_id=f"t-{next(_events)}",
            teacher_key=teacher.cpd_number,
            action_code=rule.action_code,
            occurred_on=on or timezone.localdate(),
        )
        assert event.status == "accepted", event.reason


def account(teacher, year: int = YEAR) -> PointsAccount:
    return PointsAccount.objects.get(teacher=teacher, year=year)


def assert_ledger_consistent(teacher, year: int = YEAR) -> None:
    """The cached balance equals the sum of the entries' deltas, never negative; held equals the
    points of the pending requests."""
    acc = account(teacher, year)
    deltas = PointsEntry.objects.filter(account=acc).aggregate(s=Sum("delta"))["s"] or 0
    pending = (
        ExchangeRequest.objects.filter(teacher=teacher, year=year, state=RequestState.PENDING).aggregate(s=Sum("points"))["s"]
        or 0
    )
    assert acc.balance == deltas
    assert acc.balance >= 0
    assert acc.held == pending
