"""Who is behind: active teachers short of the open year's minimums, counted per school or district.

Set-based: one read of the scope's active teachers and one call of the figures seam for the whole
scope (a few queries, whatever the number of teachers; no query per teacher). A school's teachers are
judged live; the area levels (a district's schools, the city's districts) sum the per-school counts
`behind_refresh` stores hourly (`BehindCount`) once they exist: judging every teacher of a city of
200,000 took 4–16 s per page view.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, TeacherStatus
from accounts.selectors import teachers_visible_to
from cpd.db import analyze
from cpd.pagination import keyset_page
from verification.models import YearPolicy

from . import figures
from .models import BehindCount

TEACHERS_PER_PAGE = 50
REFRESH_SCHOOLS_PER_BATCH = 100  # ≈ 10,000 teachers' figures in memory at a time


@dataclass
class Unit:
    unit: Organisation
    teachers: int = 0
    short: int = 0
    short_ids: list[int] = field(default_factory=list)

    @property
    def percent_short(self) -> int:
        return int(self.short * 100 / self.teachers) if self.teachers else 0


def short_teacher_ids(policy: YearPolicy, teachers) -> set[int]:
    """Ids of the teachers (a queryset) short of any minimum of `policy`'s year."""
    ids = list(teachers.values_list("pk", flat=True))
    figs = figures.year_figures(year=policy.year, teacher_ids=teachers.values("pk"))
    return {pk for pk in ids if figures.is_short(policy, figs.get(pk) or figures.zero(pk, policy.year))}


def behind(role: Role, today: datetime.date, *, unit_id: int | None = None, cursor: str | None = None) -> dict:
    """Per school (district, or one district drilled into from the city) or per district (city), or the
    short teachers of one school; with the open year's policy. Only what the role may see."""
    year = today.year
    policy = YearPolicy.objects.filter(year=year).first()
    scope = teachers_visible_to(role).filter(status=TeacherStatus.ACTIVE)
    drill: Organisation | None = None
    if unit_id is not None:
        from accounts.selectors import organisations_visible_to

        drill = organisations_visible_to(role).filter(pk=unit_id).first()
        if drill is None:
            return {"missing": True}
        scope = scope.filter(school__path__startswith=drill.path)
    out: dict = {"year": year, "policy": policy, "drill": drill, "units": [], "teachers": []}
    if policy is None:
        return out
    level_school = (drill is not None and drill.kind == OrgKind.SCHOOL) or role.kind in (
        RoleKind.SCHOOL_ADMIN,
        RoleKind.PRINCIPAL,
    )
    if level_school:
        short = short_teacher_ids(policy, scope)
        # The short teachers by name, 50 a page (keyset on name, id); only the page's figures are read.
        page = (
            keyset_page(scope.filter(pk__in=short).order_by("name", "pk"), cursor, TEACHERS_PER_PAGE, count=False)
            if len(short) < 5000
            else None
        )
        rows = page.object_list if page is not None else []
        out["page"] = page
        figs = figures.year_figures(year=year, teacher_ids=[t.pk for t in rows])
        for t in rows:
            t.figures = figs.get(t.pk) or figures.zero(t.pk, year)
            t.shortfalls = figures.shortfalls(policy, t.figures)
        out["teachers"] = rows
        out["short_count"] = len(short)
        return out
    by_district = role.kind == RoleKind.CITY_ADMIN and drill is None
    units: dict[int, Unit] = {}
    stored = list(
        BehindCount.objects.filter(year=year, school__path__startswith=(drill or role.organisation).path).values_list(
            "school_id", "school__parent_id", "teachers", "short", "computed_at"
        )
    )
    if stored:
        for school_id, parent_id, teachers, short_n, _at in stored:
            u = units.setdefault(parent_id if by_district else school_id, Unit(unit=None))  # type: ignore[arg-type]
            u.teachers += teachers
            u.short += short_n
        orgs = Organisation.objects.in_bulk(list(units))
        for key, u in units.items():
            u.unit = orgs[key]
        out["units"] = sorted(units.values(), key=lambda u: u.unit.code)
        out["short_count"] = sum(u.short for u in units.values())
        out["computed_at"] = min(row[4] for row in stored)
        return out
    short = short_teacher_ids(policy, scope)
    for pk, school_id, parent_id in scope.values_list("pk", "school_id", "school__parent_id"):
        key = parent_id if by_district else school_id
        u = units.get(key)
        if u is None:
            u = units[key] = Unit(unit=None)  # type: ignore[arg-type]
        u.teachers += 1
        if pk in short:
            u.short += 1
    orgs = Organisation.objects.in_bulk(list(units))
    for key, u in units.items():
        u.unit = orgs[key]
    out["units"] = sorted(units.values(), key=lambda u: u.unit.code)
    out["short_count"] = len(short)
    return out


def behind_refresh(*, today: datetime.date | None = None) -> int:
    """Store each school's active teachers and short ones for the open year (`BehindCount`, replaced
    whole): the figures of a batch of schools' teachers at a time, judged by the year's policy. Returns
    the number of schools stored (0 without a policy)."""
    year = (today or timezone.localdate()).year
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None:
        return 0
    now = timezone.now()
    active = Teacher.objects.filter(status=TeacherStatus.ACTIVE)
    school_ids = list(active.order_by("school_id").values_list("school_id", flat=True).distinct())
    rows: list[BehindCount] = []
    for i in range(0, len(school_ids), REFRESH_SCHOOLS_PER_BATCH):
        scope = active.filter(school_id__in=school_ids[i : i + REFRESH_SCHOOLS_PER_BATCH])
        short = short_teacher_ids(policy, scope)
        counts: dict[int, list[int]] = {}
        for pk, school_id in scope.values_list("pk", "school_id"):
            c = counts.setdefault(school_id, [0, 0])
            c[0] += 1
            c[1] += pk in short
        rows += [BehindCount(school_id=s, year=year, teachers=t, short=n, computed_at=now) for s, (t, n) in counts.items()]
    with transaction.atomic():
        BehindCount.objects.filter(year=year).delete()
        BehindCount.objects.bulk_create(rows, batch_size=2000)
    analyze(BehindCount)
    return len(rows)


def short_flags(policy: YearPolicy | None, teacher_ids: list[int]) -> dict[int, dict]:
    """{teacher id: shortfalls} for a page of the roster (one call of the figures seam)."""
    if policy is None or not teacher_ids:
        return {}
    figs = figures.year_figures(year=policy.year, teacher_ids=teacher_ids)
    return {pk: figures.shortfalls(policy, figs.get(pk) or figures.zero(pk, policy.year)) for pk in teacher_ids}


__all__ = ["behind", "behind_refresh", "short_flags", "short_teacher_ids", "Teacher"]


def roster_column(role: Role, teachers: list) -> tuple[str, dict[int, str]]:
    """The roster's "still missing this year" column (one figures call per page of the roster):
    the total hours still missing, the short categories when only they are short, or ✓."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from hours.models import Category

    year = timezone.localdate().year
    policy = YearPolicy.objects.filter(year=year).first()
    flags = short_flags(policy, [t.pk for t in teachers if t.status == TeacherStatus.ACTIVE])
    labels = dict(Category.choices)
    cells = {}
    for pk, s in flags.items():
        if s["total"] > 0:
            cells[pk] = str(s["total"])
        elif any(s[c] > 0 for c in figures.CATEGORIES):
            cells[pk] = "、".join(f"{labels[c]} {s[c]}" for c in figures.CATEGORIES if s[c] > 0)
        else:
            cells[pk] = "✓"
    return _("%(year)s年还差学时") % {"year": year}, cells
