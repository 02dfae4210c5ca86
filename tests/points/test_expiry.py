"""The year-end expiry (SPEC §6: points are valid in the calendar year they were earned): every unspent
point of the year is cleared with one 'expired' entry per account, pending requests are cancelled
first (their points released, then expired), paid ones stay; a second run changes nothing."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from hours.models import LedgerEntry, Source
from points import services
from points.models import EntryKind, ExchangeRequest, PointsAccount, PointsEntry, RequestState

from ..factories import TeacherFactory
from .conftest import account, assert_ledger_consistent, at, earn

NEW_YEAR = datetime.date(2027, 1, 1)


@pytest.fixture
def year_2026(world, window):
    """In June 2026: teacher_a1 earns 350, has 1 hour pending and 1 hour paid; teacher_a2 earns 200
    and spends it all; teacher_b1 earns 40."""
    a1, a2, b1 = (world.teachers[p] for p in ("teacher_a1", "teacher_a2", "teacher_b1"))
    with at(datetime.date(2026, 6, 15)):
        earn(a1, 350, rule=_rule(50))
        earn(a2, 200)
        earn(b1, 40, rule=_rule(20))
        teacher = world.roles["teacher_a1"]
        pending = services.exchange_request(role=teacher, actor=teacher.user, category="professional", hours=1)
        paid = services.exchange_request(role=teacher, actor=teacher.user, category="elective", hours=1)
        other = world.roles["teacher_a2"]
        paid_a2 = services.exchange_request(role=other, actor=other.user, category="professional", hours=2)
        services.exchange_confirm_paid(
            role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], request_ids=[paid.pk]
        )
        services.exchange_confirm_paid(
            role=world.roles["school_a2_admin"], actor=world.users["school_a2_admin"], request_ids=[paid_a2.pk]
        )
    return {"a1": a1, "a2": a2, "b1": b1, "pending": pending, "paid": paid}


def _rule(points):
    from points.models import EarningRule

    return EarningRule.objects.get_or_create(action_code=f"r{points}", defaults={"name": f"{points}分行为", "points": points})[0]


def _snapshot():
    return (
        sorted(PointsAccount.objects.values_list("teacher_id", "year", "balance", "held")),
        PointsEntry.objects.count(),
        sorted(ExchangeRequest.objects.values_list("pk", "state")),
    )


def test_the_year_end_clears_every_unspent_point_with_one_expired_entry_per_account(world, year_2026):
    a1, a2, b1 = year_2026["a1"], year_2026["a2"], year_2026["b1"]

    with at(NEW_YEAR, hour=1):
        result = services.points_expire_year(2026)

    assert result == {"cancelled": 1, "expired_accounts": 2}
    for teacher in (a1, a2, b1):
        assert (account(teacher).balance, account(teacher).held) == (0, 0)
        assert_ledger_consistent(teacher)
    expired = PointsEntry.objects.filter(kind=EntryKind.EXPIRED)
    assert sorted(expired.values_list("account__teacher", "delta", "amount")) == sorted([(a1.pk, -250, 250), (b1.pk, -40, 40)])
    assert set(expired.values_list("reason", flat=True)) == {"积分只在当年有效，年末清零"}
    # Dated the day the job ran, in Beijing (01:00 on 1 January is still 31 December in UTC).
    assert set(expired.values_list("occurred_on", flat=True)) == {NEW_YEAR}
    # teacher_a2 spent everything: nothing to expire, no empty entry.
    assert not expired.filter(account__teacher=a2).exists()


def test_a_pending_request_is_cancelled_its_points_released_then_expired(world, year_2026):
    a1, pending = year_2026["a1"], year_2026["pending"]

    with at(NEW_YEAR, hour=1):
        services.points_expire_year(2026)

    req = ExchangeRequest.objects.get(pk=pending.pk)
    assert req.state == RequestState.CANCELLED
    assert req.reason == "年末自动取消未确认的兑换申请"
    history = world.api("teacher_a1").get("/api/v1/points/me/").json()["entries"]
    assert [(e["kind"], e["delta"]) for e in history[:2]] == [(EntryKind.EXPIRED, -250), (EntryKind.RELEASED, 100)]
    # The school can no longer confirm it: no hours come from expired points.
    result = services.exchange_confirm_paid(
        role=world.roles["school_a1_admin"], actor=world.users["school_a1_admin"], request_ids=[pending.pk]
    )
    assert result["confirmed"] == []
    assert LedgerEntry.objects.filter(teacher=a1, source=Source.POINTS_EXCHANGE).count() == 1


def test_paid_requests_and_their_hours_are_untouched(world, year_2026):
    paid = year_2026["paid"]
    before = list(LedgerEntry.objects.filter(source=Source.POINTS_EXCHANGE).values_list("pk", "teacher", "year", "hours"))

    with at(NEW_YEAR, hour=1):
        services.points_expire_year(2026)

    assert ExchangeRequest.objects.get(pk=paid.pk).state == RequestState.PAID
    assert not PointsEntry.objects.filter(request=paid, kind__in=[EntryKind.RELEASED, EntryKind.EXPIRED]).exists()
    assert list(LedgerEntry.objects.filter(source=Source.POINTS_EXCHANGE).values_list("pk", "teacher", "year", "hours")) == before


def test_running_the_expiry_twice_is_the_same_as_once(world, year_2026):
    with at(NEW_YEAR, hour=1):
        services.points_expire_year(2026)
        once = _snapshot()

        again = services.points_expire_year(2026)

    assert again == {"cancelled": 0, "expired_accounts": 0}
    assert _snapshot() == once


def test_other_years_are_untouched(world, year_2026):
    a1 = year_2026["a1"]
    with at(NEW_YEAR, hour=1):
        earn(a1, 100)  # 2027 points

        services.points_expire_year(2026)

    assert account(a1, 2027).balance == 100
    assert not PointsEntry.objects.filter(account__year=2027, kind=EntryKind.EXPIRED).exists()


def test_the_daily_job_expires_past_years_only(world, year_2026):
    a1 = year_2026["a1"]
    with at(datetime.date(2025, 5, 1)):
        earn(a1, 60, rule=_rule(20))

    with at(NEW_YEAR, hour=1):
        earn(a1, 100)
        # In 2026 itself nothing is past but 2025.
        assert list(services.points_expire_due(datetime.date(2026, 12, 31))) == [2025]
        assert (account(a1, 2026).balance, account(a1, 2026).held) == (150, 100)

        result = services.points_expire_due()

        assert list(result) == [2026]
        assert services.points_expire_due() == {}
    assert (account(a1, 2025).balance, account(a1, 2026).balance, account(a1, 2027).balance) == (0, 0, 100)


def test_the_expiry_is_set_based_the_same_queries_for_10_accounts_as_for_200(world):
    """10 accounts in 2024, 200 in 2025, a fifth of them with a pending request: same statements."""
    teachers = TeacherFactory.create_batch(200, school=world.school_a1)
    for year, group in ((2024, teachers[:10]), (2025, teachers)):
        for i, teacher in enumerate(group):
            acc = PointsAccount.objects.create(teacher=teacher, year=year)
            services._entry(acc, EntryKind.EARNED, 300, 300, occurred_on=datetime.date(year, 5, 1), reason="研修")
            if i % 5 == 0:
                req = ExchangeRequest.objects.create(teacher=teacher, year=year, category="professional", hours=1, points=100)
                services._entry(acc, EntryKind.HELD, -100, 100, request=req)

    with at(NEW_YEAR):
        with CaptureQueriesContext(connection) as small:
            assert services.points_expire_year(2024) == {"cancelled": 2, "expired_accounts": 10}
        with CaptureQueriesContext(connection) as large:
            assert services.points_expire_year(2025) == {"cancelled": 40, "expired_accounts": 200}

    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(large.captured_queries) <= 10
    assert PointsAccount.objects.filter(year__in=[2024, 2025]).aggregate(b=Sum("balance"), h=Sum("held")) == {"b": 0, "h": 0}
    assert PointsEntry.objects.filter(kind=EntryKind.EXPIRED, account__year=2025).aggregate(s=Sum("amount"))["s"] == 200 * 300
    assert ExchangeRequest.objects.filter(state=RequestState.PENDING).count() == 0
