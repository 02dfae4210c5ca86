"""Scoped reads of verification results, notices, complaints and statistics."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum

from accounts.models import Organisation, OrgKind, Role, RoleKind
from accounts.selectors import AREA_ROLES, SCHOOL_ROLES, scope_by_teacher

from .models import (
    AreaYearStats,
    Confirmation,
    Notice,
    ResultComplaint,
    ResultStatus,
    RunStatus,
    SchoolYearStats,
    VerificationResult,
    VerificationRun,
    YearPolicy,
)


def policy_minimums(year: int) -> dict[str, Decimal] | None:
    """Minimum hours per category and total for the year, or None without a policy (used by the hours pages)."""
    policy = YearPolicy.objects.filter(year=year).first()
    return policy.minimums() if policy else None


def results_visible_to(role: Role | None) -> QuerySet[VerificationResult]:
    """Results in the role's scope. A teacher never sees a provisional run's result (SPEC §9): until the
    final run the year has no verdict for them."""
    qs = scope_by_teacher(VerificationResult.objects.select_related("teacher", "school", "run"), role, school="school")
    if role is not None and role.kind == RoleKind.TEACHER:
        qs = qs.exclude(run__provisional=True)
    return qs


def year_is_provisional(role: Role | None, year: int) -> bool:
    """Whether the year's results the role sees come from a provisional (试算) run: a finished provisional
    run of the year that covers the role's area and no final run over that area after it.

    Read from the runs (a handful of rows a year), never from the results: a page must not scan a
    year's 200,000 results to label itself."""
    if role is None:
        return False
    runs = VerificationRun.objects.filter(year=year, status=RunStatus.DONE)
    org = role.organisation
    if org.kind in (OrgKind.PROVINCE, OrgKind.CITY):
        finals = runs.filter(district__isnull=True, provisional=False)
    else:
        # A school's or a district's results come from city-wide runs and its district's own runs.
        runs = runs.filter(Q(district__isnull=True) | Q(district_id__in=[org.pk, org.parent_id]))
        finals = runs.filter(provisional=False)
    final_at = finals.aggregate(last=Max("finished_at"))["last"]
    provisional = runs.filter(provisional=True)
    if final_at is not None:
        provisional = provisional.filter(finished_at__gt=final_at)
    return provisional.exists()


def notices_visible_to(role: Role | None) -> QuerySet[Notice]:
    if role is None:
        return Notice.objects.none()
    qs = Notice.objects.select_related("school")
    if role.kind in (RoleKind.TEACHER, *SCHOOL_ROLES):
        return qs.filter(school_id=role.organisation_id)
    if role.kind in AREA_ROLES:
        return qs.filter(school__path__startswith=role.organisation.path)
    return qs.none()


def complaints_visible_to(role: Role | None) -> QuerySet[ResultComplaint]:
    """Complaints in the role's scope: a teacher their own; a school role and an area role by the school of the
    complaint's result, read from the complaint's own copy of it (`ResultComplaint.school`, kept equal by
    verification 0012), so an area's complaints are an index range per school, not a join through results."""
    qs = ResultComplaint.objects.select_related("result", "result__teacher", "result__school", "notice")
    return scope_by_teacher(qs, role, teacher="result__teacher", school="school")


def complaints_needing_rerun(
    *, year: int, school: Organisation | None = None, scope: QuerySet[ResultComplaint] | None = None
) -> QuerySet[ResultComplaint]:
    """Complaints of `year` whose teacher's hours were corrected after their result was computed: the
    published figures are stale until the city verifies the year again (a run rewrites `computed_at`)."""
    qs = ResultComplaint.objects.filter(result__year=year, corrections__created_at__gt=F("result__computed_at"))
    if school is not None:
        qs = qs.filter(result__school=school)
    if scope is not None:
        qs = qs.filter(pk__in=scope.values("pk"))
    return qs.distinct()


def schools_pending_confirmation(district: Organisation, year: int) -> list[Organisation]:
    """Schools of the district that have results for the year but no principal's confirmation."""
    with_results = VerificationResult.objects.filter(year=year, school__parent=district).values("school_id")
    confirmed = Confirmation.objects.filter(year=year).values("organisation_id")
    return list(Organisation.objects.filter(pk__in=with_results).exclude(pk__in=confirmed).order_by("code"))


def districts_pending_confirmation(city: Organisation, year: int) -> list[Organisation]:
    with_results = VerificationResult.objects.filter(year=year, school__path__startswith=city.path).values("school__parent_id")
    confirmed = Confirmation.objects.filter(year=year).values("organisation_id")
    return list(
        Organisation.objects.filter(pk__in=with_results, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT])
        .exclude(pk__in=confirmed)
        .order_by("code")
    )


STAT_AGGREGATES = {
    "verified": Count("pk"),
    "passed": Count("pk", filter=Q(status=ResultStatus.PASSED)),
    "failed": Count("pk", filter=Q(status=ResultStatus.FAILED)),
    "exempt": Count("pk", filter=Q(status=ResultStatus.EXEMPT)),
    "public": Sum("public"),
    "professional": Sum("professional"),
    "elective": Sum("elective"),
    "total_hours": Sum("total"),
}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    judged = (row.get("passed") or 0) + (row.get("failed") or 0)
    row["pass_rate"] = round(100 * (row.get("passed") or 0) / judged, 1) if judged else None
    for key in ("public", "professional", "elective", "total_hours"):
        row[key] = row.get(key) or Decimal("0")
    return row


# The stored figures (SchoolYearStats) summed over a scope: a few thousand rows at most, never the results.
STORED_AGGREGATES = {
    k: Sum(k) for k in ("teachers", "verified", "passed", "failed", "exempt", "public", "professional", "elective", "total_hours")
}


def stats_visible_to(role: Role | None) -> QuerySet[SchoolYearStats]:
    """Stored per-school figures in the role's scope (a school role: its school; an area role: its subtree)."""
    if role is None:
        return SchoolYearStats.objects.none()
    if role.kind in SCHOOL_ROLES:
        return SchoolYearStats.objects.filter(school_id=role.organisation_id)
    if role.kind in AREA_ROLES:
        return SchoolYearStats.objects.filter(school__path__startswith=role.organisation.path)
    return SchoolYearStats.objects.none()


def _area_of(role: Role | None) -> Organisation | None:
    """The area whose stored rollup (`AreaYearStats`) answers for the role's scope; None for a school role."""
    return role.organisation if role is not None and role.kind in AREA_ROLES else None


FIGURES = tuple(STORED_AGGREGATES)


def statistics_units(role: Role | None) -> QuerySet[Organisation]:
    """The units the role's statistics are broken down by, by code: the city's districts (and city-direct
    units), a district's schools, a school itself."""
    if role is None:
        return Organisation.objects.none()
    if role.kind == RoleKind.CITY_ADMIN:
        return Organisation.objects.filter(parent=role.organisation, kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]).order_by(
            "code", "pk"
        )
    units = Organisation.objects.filter(kind=OrgKind.SCHOOL, path__startswith=role.organisation.path).order_by("code", "pk")
    return units.filter(pk=role.organisation_id) if role.kind in SCHOOL_ROLES else units


def statistics_by_unit(role: Role | None, year: int, units: list[Organisation] | None = None) -> list[dict[str, Any]]:
    """One row per school (for a school or district role) or per district (for the city), with
    teachers (active when last counted), verified, passed, pass rate and hours per category, from the
    figures stored when the year's run finished (`SchoolYearStats`, and for the city's districts their
    rollups, `AreaYearStats`). `units`: a page of `statistics_units(role)` (default: all of them). Two
    queries."""
    if role is None:
        return []
    units = list(statistics_units(role)) if units is None else units
    ids = [u.pk for u in units]
    stored: Any
    if role.kind == RoleKind.CITY_ADMIN:
        stored = AreaYearStats.objects.filter(year=year, organisation_id__in=ids).values_list("organisation_id", *FIGURES)
    else:
        stored = SchoolYearStats.objects.filter(year=year, school_id__in=ids).values_list("school_id", *FIGURES)
    rows = {r[0]: dict(zip(FIGURES, r[1:], strict=True)) for r in stored}
    out = []
    for unit in units:
        row = dict(rows.get(unit.pk, {}))
        row.update({"unit": unit, "teachers": row.get("teachers") or 0})
        out.append(_finish(row))
    return out


def statistics_total(role: Role | None, year: int) -> dict[str, Any]:
    """The scope's totals for the year and when they were computed (`computed_at`, None before any): an
    area's stored rollup (one row), a school's own row."""
    area = _area_of(role)
    stored = AreaYearStats.objects.filter(organisation=area) if area is not None else stats_visible_to(role)
    row = stored.filter(year=year).values(*FIGURES, "computed_at").first() or {"computed_at": None}
    row["teachers"] = row.get("teachers") or 0
    row["verified"] = row.get("verified") or 0
    return _finish(row)


def statistics_trend(role: Role | None) -> list[dict[str, Any]]:
    """One row per verified year for the role's scope (one query over the stored figures: one row a year)."""
    area = _area_of(role)
    stored = AreaYearStats.objects.filter(organisation=area) if area is not None else stats_visible_to(role)
    rows = stored.filter(verified__gt=0).values("year", *FIGURES).order_by("year")
    return [_finish(dict(r)) for r in rows]


def stored_area_counts(area_ids: list[int]) -> dict[int, tuple[int, int, datetime.datetime]]:
    """{area id: (year, active teachers, when counted)} from the latest year the statistics stored for each
    area (`AreaYearStats`): what the organisation list shows for an area too large to count per request."""
    stored: dict[int, tuple[int, int, datetime.datetime]] = {}
    rows = AreaYearStats.objects.filter(organisation__in=area_ids).values_list(
        "organisation_id", "year", "teachers", "teachers_at"
    )
    for pk, year, n, at in rows:
        if pk not in stored or year > stored[pk][0]:
            stored[pk] = (year, n, at)
    return stored
