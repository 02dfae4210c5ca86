"""The only place the home pages, reminders and transcripts get hours figures from: a thin seam over
the one counting rule (`hours.ledger`) and the annual rule (`verification.rules.judge`). Nothing here
sums ledger rows (SPEC §9: one truth for hours)."""

from __future__ import annotations

from decimal import Decimal

from hours.ledger import PENDING_STATES, TeacherIds, YearFigures, pending_hours, teacher_year_figures, year_figures
from verification.models import YearPolicy
from verification.rules import Minimums, judge

ZERO = Decimal("0")
CATEGORIES = ("public", "professional", "elective")

__all__ = [
    "CATEGORIES",
    "PENDING_STATES",
    "TeacherIds",
    "YearFigures",
    "is_short",
    "minimums",
    "pending_hours",
    "shortfalls",
    "teacher_year_figures",
    "year_figures",
    "zero",
]


def zero(teacher_id: int, year: int) -> YearFigures:
    """The figures of a teacher without any counted hours."""
    return YearFigures(teacher_id=teacher_id, year=year)


def minimums(policy: YearPolicy) -> dict[str, Decimal]:
    return Minimums.of(policy).as_dict()


def shortfalls(policy: YearPolicy, figures: YearFigures) -> dict[str, Decimal]:
    """{category or 'total': hours still missing} under the year's policy."""
    return judge(figures=figures, policy=policy).shortfall


def is_short(policy: YearPolicy, figures: YearFigures) -> bool:
    return not judge(figures=figures, policy=policy).complete
