"""Scoped reads of the hours bank and declarations."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import Role, RoleKind
from accounts.selectors import scope_by_teacher

from .models import Declaration, DeclarationState, Evidence, LedgerEntry, Notification

# What a queue's and a list's rows show of the teacher: their name, school and its district.
DISPLAYED = ("teacher", "teacher__school", "teacher__school__parent")


def declarations_visible_to(role: Role | None) -> QuerySet[Declaration]:
    """Declarations the role may see: a teacher their own, a school its teachers', an area its subtree's."""
    return scope_by_teacher(Declaration.objects.select_related(*DISPLAYED), role)


def ledger_visible_to(role: Role | None) -> QuerySet[LedgerEntry]:
    return scope_by_teacher(LedgerEntry.objects.select_related("teacher", "teacher__school"), role)


def evidence_visible_to(role: Role | None) -> QuerySet[Evidence]:
    return Evidence.objects.filter(declaration__in=declarations_visible_to(role).values("pk"))


# Who reviews declarations at which level: the school admin first (初审), the district/city-direct admin second (复审).
REVIEW_LEVEL: dict[str, str] = {RoleKind.SCHOOL_ADMIN: "school", RoleKind.DISTRICT_ADMIN: "district"}
REVIEWERS = tuple(REVIEW_LEVEL)


def review_level(role: Role | None) -> str | None:
    """'school' for a school admin (初审), 'district' for a district/city-direct admin (复审), else None."""
    return REVIEW_LEVEL.get(role.kind) if role is not None else None


QUEUE_STATE = {"school": DeclarationState.SUBMITTED, "district": DeclarationState.SCHOOL_APPROVED}


def review_queue(role: Role | None, level: str) -> QuerySet[Declaration]:
    """The declarations waiting for this reviewer, oldest first, with their evidence prefetched."""
    return _waiting(role, level).select_related(*DISPLAYED).prefetch_related("evidence").order_by("submitted_at", "pk")


def _waiting(role: Role | None, level: str) -> QuerySet[Declaration]:
    """The declarations waiting at `level` that the role reviews, unordered: the rows of
    `declarations_visible_to(role)` in the level's state.

    By the declaration's school (a school admin's) or district (a district admin's), which are the teacher's
    current school and its district (`Declaration.school`, `.district`, kept in step with transfers and school
    moves), and so the same rows as the scope's "the teacher's school" and "the school's path under the
    district's" (a school hangs directly under a district or city-direct unit): one range of the level's queue
    index, in order, without reading a teacher."""
    if review_level(role) != level:
        return Declaration.objects.none()  # type: ignore[no-any-return]  # django-stubs: none() on a manager is Any
    assert role is not None
    waiting: QuerySet[Declaration] = Declaration.objects.filter(state=QUEUE_STATE[level])
    if level == "district":
        return waiting.filter(district_id=role.organisation_id)
    return waiting.filter(school_id=role.organisation_id)


# A queue's per-year count is exact up to this many; above it the page says "1,000+". Counting to 1,001
# stops early, whatever the size of the queue.
QUEUE_COUNT_CAP = 1000


def queue_counts(role: Role | None, level: str, cap: int | None = None) -> dict[int, int]:
    """{year: waiting} for the reviewer's queue, years with nothing waiting left out. A count above `cap` is
    given as cap + 1 (read it as "more than cap"): one statement, each year's count stopping at cap + 1.
    Each year's count reads the (school or district, year) range of the level's queue index alone."""
    if review_level(role) != level:
        return {}
    cap = QUEUE_COUNT_CAP if cap is None else cap
    years = _years_in_state(QUEUE_STATE[level])
    base = _waiting(role, level).order_by().values("pk")
    parts: list[str] = []
    params: list[Any] = []
    try:
        for y in years:
            sql, p = base.filter(year=y)[: cap + 1].query.sql_with_params()
            parts.append(f"SELECT %s, (SELECT COUNT(*) FROM ({sql}) q)")
            params += [y, *p]
    except EmptyResultSet:
        return {}
    if not parts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return {int(y): int(n) for y, n in cursor.fetchall() if n}


def _years_in_state(state: str) -> list[int]:
    """The years that have a declaration in `state`, city-wide: a loose index scan of (state, year), one
    index probe per year, however many declarations wait."""
    table = connection.ops.quote_name(Declaration._meta.db_table)
    sql = f"""
        WITH RECURSIVE y(year) AS (
            SELECT MIN(year) FROM {table} WHERE state = %s
            UNION ALL
            SELECT (SELECT MIN(year) FROM {table} WHERE state = %s AND year > y.year) FROM y WHERE y.year IS NOT NULL
        )
        SELECT year FROM y WHERE year IS NOT NULL"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [state, state])
        return [int(r[0]) for r in cursor.fetchall()]


def counts_capped(counts: dict[int, int], cap: int | None = None) -> tuple[int, bool]:
    """(the total to show, whether it is a lower bound) of `queue_counts`."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    return sum(min(n, cap) for n in counts.values()), any(n > cap for n in counts.values())


def days_left(deadline: datetime.date) -> int:
    return (deadline - timezone.localdate()).days


def years_with_entries(teacher_id: int) -> list[int]:
    ledger_years = set(LedgerEntry.objects.filter(teacher_id=teacher_id).values_list("year", flat=True).distinct())
    decl_years = set(Declaration.objects.filter(teacher_id=teacher_id).values_list("year", flat=True).distinct())
    return sorted(ledger_years | decl_years | {timezone.localdate().year}, reverse=True)


# hours sits below the regimes, so the annual regime (verification) hands its minimums in at start-up
# (verification.apps) instead of hours importing it. A cycle deployment registers none.
_year_minimums_provider: Callable[[int], dict[str, Decimal] | None] | None = None


def register_year_minimums(provider: Callable[[int], dict[str, Decimal] | None] | None) -> None:
    global _year_minimums_provider
    _year_minimums_provider = provider


def year_minimums(year: int) -> dict[str, Decimal] | None:
    """The year's minimum hours per category and total, from the regime that verifies years.

    Returns None while no policy exists for the year, or in a cycle deployment (the page then shows totals only).
    """
    return _year_minimums_provider(year) if _year_minimums_provider is not None else None


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def has_revoking_entry() -> Exists:
    """Annotation: whether another entry revokes this one."""
    return Exists(LedgerEntry.objects.filter(revokes=OuterRef("pk")))
