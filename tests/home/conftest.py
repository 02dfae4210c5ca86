"""Home-page fixtures: a frozen day in 2026, the 2026 policy (2022 rule), hours straight in the ledger."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine

from verification.models import CarryRule, ResultStatus, VerificationResult, YearPolicy

TZ = datetime.timezone(datetime.timedelta(hours=8))


def at(y, m, d, hh=10):
    return time_machine.travel(datetime.datetime(y, m, d, hh, 0, tzinfo=TZ), tick=False)


@pytest.fixture
def june(db):
    """2026-06-15 10:00 Beijing time."""
    with at(2026, 6, 15) as t:
        yield t


def policy(year: int) -> YearPolicy:
    return YearPolicy.objects.update_or_create(
        year=year,
        defaults=dict(
            min_total=Decimal("90"),
            min_public=Decimal("30"),
            min_professional=Decimal("42"),
            min_elective=Decimal("18"),
            carry_rule=CarryRule.RULE_2022,
        ),
    )[0]


@pytest.fixture
def policy_2026(db) -> YearPolicy:
    return policy(2026)


def result(teacher, year: int, *, status=ResultStatus.PASSED, carry_out=0, total=90, computed_at=None) -> VerificationResult:
    return VerificationResult.objects.create(
        teacher=teacher,
        year=year,
        school=teacher.school,
        total=Decimal(total),
        status=status,
        carry_out=Decimal(carry_out),
        computed_at=computed_at or datetime.datetime(year + 1, 3, 5, 10, tzinfo=TZ),
    )
