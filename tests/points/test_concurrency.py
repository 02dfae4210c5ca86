"""Many requests against one balance at the same moment (needs PostgreSQL row locks): never overspent,
never over the yearly cap, and the cached balance always equals the sum of the entries."""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from cpd.errors import StateConflict
from hours.models import LedgerEntry, Source
from points import services
from points.models import EarningRule, EntryKind, ExchangeRequest, PointsEntry, PointsEvent, RequestState

from ..concurrency import race
from .conftest import account, assert_ledger_consistent, earn

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("in_window", "window")]


def _today():
    return timezone.localdate()


def _exchange(world, hours, category="professional"):
    role = world.roles["teacher_a1"]
    return lambda: services.exchange_request(role=role, actor=role.user, category=category, hours=hours)


def _kind(outcome):
    if isinstance(outcome, ExchangeRequest):
        return "ok"
    assert isinstance(outcome, ValidationError | StateConflict), repr(outcome)
    return " ".join(outcome.messages)


def _check_never_overspent(teacher):
    acc = account(teacher)
    pending = ExchangeRequest.objects.filter(teacher=teacher, state=RequestState.PENDING)
    assert acc.balance >= 0
    assert acc.held == (pending.aggregate(s=Sum("points"))["s"] or 0)
    held_entries = PointsEntry.objects.filter(account=acc, kind=EntryKind.HELD).aggregate(s=Sum("amount"))["s"] or 0
    assert held_entries == ExchangeRequest.objects.filter(teacher=teacher).aggregate(s=Sum("points"))["s"]
    assert_ledger_consistent(teacher)


def test_eight_simultaneous_one_hour_requests_against_500_points_hold_exactly_500(world, transactional_db):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 500)

    outcomes = race([_exchange(world, 1) for _ in range(8)])

    kinds = Counter(_kind(o) for o in outcomes)
    assert kinds["ok"] == 5, kinds
    assert all("积分不足" in k for k in kinds if k != "ok"), kinds
    assert (account(teacher).balance, account(teacher).held) == (0, 500)
    _check_never_overspent(teacher)


def test_simultaneous_one_and_three_hour_requests_never_overspend(world, transactional_db):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 500)

    for _ in range(3):  # a race is won by timing: run it a few times
        outcomes = race([_exchange(world, 3 if i % 3 == 0 else 1) for i in range(8)])
        ok = [o for o in outcomes if isinstance(o, ExchangeRequest)]
        assert ok, outcomes
        assert all(_kind(o) == "ok" or "积分不足" in _kind(o) for o in outcomes), outcomes
        assert sum(o.points for o in ok) <= 500
        _check_never_overspent(teacher)
        # Give everything back for the next round.
        school = world.roles["school_a1_admin"]
        for req in ok:
            services.exchange_refuse(role=school, actor=school.user, request=req, reason="下一轮")
        assert (account(teacher).balance, account(teacher).held) == (500, 0)


def test_simultaneous_requests_never_pass_the_ten_hour_cap(world, transactional_db):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 3000)

    outcomes = race([_exchange(world, 3 if i % 2 else 2) for i in range(8)])

    hours = ExchangeRequest.objects.filter(teacher=teacher, category="professional").aggregate(h=Sum("hours"))["h"]
    assert 8 <= hours <= 10, outcomes
    assert all(_kind(o) == "ok" or "每年最多兑换10学时" in _kind(o) for o in outcomes)
    assert account(teacher).balance == 3000 - hours * 100
    _check_never_overspent(teacher)
    # The elective cap is a separate one.
    assert Counter(_kind(o) for o in race([_exchange(world, 2, "elective") for _ in range(8)]))["ok"] == 5


def test_the_school_confirming_while_the_teacher_cancels_one_wins(world, transactional_db):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 1000)
    t_role, school = world.roles["teacher_a1"], world.roles["school_a1_admin"]

    for _ in range(4):
        req = services.exchange_request(role=t_role, actor=t_role.user, category="elective", hours=1)

        def confirm(r=req):
            return services.exchange_confirm_paid(role=school, actor=school.user, request_ids=[r.pk])

        def cancel(r=req):
            return services.exchange_cancel(role=t_role, actor=t_role.user, request=r)

        confirmed, cancelled = race([confirm, cancel])

        state = ExchangeRequest.objects.get(pk=req.pk).state
        ledger = LedgerEntry.objects.filter(source_ref=f"points:{req.pk}").count()
        if state == RequestState.PAID:
            assert confirmed["confirmed"] == [req.pk] and isinstance(cancelled, StateConflict)
            assert ledger == 1
        else:
            assert state == RequestState.CANCELLED and confirmed["confirmed"] == [] and ledger == 0
        assert PointsEntry.objects.filter(request=req, kind__in=[EntryKind.SPENT, EntryKind.RELEASED]).count() == 1
        _check_never_overspent(teacher)


def test_two_simultaneous_confirmations_put_the_hours_in_once(world, transactional_db):
    teacher = world.teachers["teacher_a1"]
    earn(teacher, 200)
    req = services.exchange_request(
        role=world.roles["teacher_a1"], actor=world.users["teacher_a1"], category="professional", hours=2
    )
    school = world.roles["school_a1_admin"]

    results = race([lambda: services.exchange_confirm_paid(role=school, actor=school.user, request_ids=[req.pk])] * 4)

    assert sorted(len(r["confirmed"]) for r in results) == [0, 0, 0, 1]
    assert LedgerEntry.objects.filter(teacher=teacher, source=Source.POINTS_EXCHANGE).count() == 1
    assert PointsEntry.objects.filter(request=req, kind=EntryKind.SPENT).count() == 1
    _check_never_overspent(teacher)


def test_the_same_event_sent_eight_times_at_once_earns_once(world, transactional_db):
    EarningRule.objects.create(action_code="award", name="研修成果获奖", points=100)
    teacher = world.teachers["teacher_b1"]  # no points account yet: created by the race's winner

    def send():
        return services.points_earn(event_id="EV-race", teacher_key=teacher.cpd_number, action_code="award", occurred_on=_today())

    events = race([send] * 8)

    assert all(getattr(e, "event_id", None) == "EV-race" for e in events), events
    assert {e.status for e in events} == {"accepted"}
    assert PointsEvent.objects.count() == 1
    assert account(teacher).balance == 100
    assert_ledger_consistent(teacher)


def test_simultaneous_events_never_pass_the_daily_limit(world, transactional_db):
    EarningRule.objects.create(action_code="post", name="发表研修帖子", points=5, daily_limit=10)
    teacher = world.teachers["teacher_b1"]

    def send(i):
        return services.points_earn(event_id=f"EV-{i}", teacher_key=teacher.cpd_number, action_code="post", occurred_on=_today())

    events = race([functools.partial(send, i) for i in range(8)])

    assert Counter(e.status for e in events) == {"accepted": 2, "refused": 6}, events
    assert account(teacher).balance == 10
    assert_ledger_consistent(teacher)
