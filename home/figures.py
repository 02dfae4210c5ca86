"""The only place the home pages, reminders and transcripts get hours figures from.

Every figure here comes from the verification's counting rule (SPEC §9: one truth for hours);
this module never sums ledger rows itself. It is a thin seam so that the callers do not care
where the rule lives: today `verification.engine` (counted entries, each public topic once,
carry-in from last year's result); when `hours/ledger.py` lands, these functions are
repointed at `ledger.year_figures` / `ledger.pending_hours` and `verification.rules.judge`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from hours.models import Category, Declaration, DeclarationState
from verification.models import VerificationResult, YearPolicy

ZERO = Decimal("0")
CATEGORIES = ("public", "professional", "elective")
PENDING_STATES = (DeclarationState.SUBMITTED, DeclarationState.SCHOOL_APPROVED)


@dataclass(frozen=True)
class Figures:
    """One teacher's counted hours of one year, as the verification counts them."""

    public: Decimal = ZERO
    professional_own: Decimal = ZERO
    carry_in: Decimal = ZERO
    elective: Decimal = ZERO

    @property
    def professional(self) -> Decimal:
        return self.carry_in + self.professional_own

    @property
    def total(self) -> Decimal:
        return self.public + self.professional + self.elective

    def get(self, category: str) -> Decimal:
        return getattr(self, category)


def year_figures(*, year: int, teacher_ids: Iterable[int] | QuerySet | None) -> dict[int, Figures]:
    """{teacher id: Figures} for `year`; `teacher_ids` a list, a queryset of ids (kept a subquery) or
    None for every teacher (a whole city at once).

    A handful of queries whatever the number of teachers. Teachers with no hours are absent.
    """
    from verification.engine import hours_by_teacher

    # A queryset stays a subquery (a whole district at once); anything else becomes a list.
    ids = teacher_ids if teacher_ids is None or isinstance(teacher_ids, QuerySet) else list(teacher_ids)
    teacher_filter = {} if ids is None else {"teacher_id__in": ids}
    sums = hours_by_teacher(year, teacher_filter)
    carry = VerificationResult.objects.filter(year=year - 1, carry_out__gt=0)
    if ids is not None:
        carry = carry.filter(teacher_id__in=ids)
    carry_in = dict(carry.values_list("teacher_id", "carry_out"))
    out: dict[int, Figures] = {}
    for teacher_id in set(sums) | set(carry_in):
        s = sums.get(teacher_id, {})
        out[teacher_id] = Figures(
            public=s.get(Category.PUBLIC, ZERO) or ZERO,
            professional_own=s.get(Category.PROFESSIONAL, ZERO) or ZERO,
            carry_in=carry_in.get(teacher_id, ZERO),
            elective=s.get(Category.ELECTIVE, ZERO) or ZERO,
        )
    return out


def teacher_year_figures(*, teacher_id: int, year: int) -> Figures:
    return year_figures(year=year, teacher_ids=[teacher_id]).get(teacher_id, Figures())


def pending_hours(*, year: int, teacher_ids: Iterable[int]) -> dict[int, dict[str, Decimal]]:
    """{teacher id: {category: hours}} of declarations still in review (shown beside, never added in)."""
    out: dict[int, dict[str, Decimal]] = {}
    rows = (
        Declaration.objects.filter(year=year, teacher_id__in=list(teacher_ids), state__in=PENDING_STATES)
        .values("teacher_id", "category")
        .annotate(h=Sum("hours"))
        .order_by()
    )
    for row in rows:
        out.setdefault(row["teacher_id"], {c: ZERO for c in CATEGORIES})[row["category"]] = row["h"] or ZERO
    return out


def minimums(policy: YearPolicy) -> dict[str, Decimal]:
    return {
        "public": policy.min_public,
        "professional": policy.min_professional,
        "elective": policy.min_elective,
        "total": policy.min_total,
    }


def shortfalls(policy: YearPolicy, figures: Figures) -> dict[str, Decimal]:
    """{category or 'total': hours still missing} under the year's policy (SPEC §5's minimums)."""
    mins = minimums(policy)
    have = {"public": figures.public, "professional": figures.professional, "elective": figures.elective, "total": figures.total}
    return {key: max(ZERO, mins[key] - have[key]) for key in mins}


def is_short(policy: YearPolicy, figures: Figures) -> bool:
    return any(v > 0 for v in shortfalls(policy, figures).values())
