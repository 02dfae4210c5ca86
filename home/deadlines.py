"""The year's deadlines, as one list every page, feed and reminder reads (SPEC §4, §5, §6, §7, §8).

A deadline has a stable key ("2026:declaration") so that a reminder is sent once per
(person, deadline, offset) and an iCalendar event keeps its UID across downloads.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, RoleKind
from hours.models import Year

T = RoleKind.TEACHER
SCHOOL = (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL)
AREA = (RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)
ORGANISERS = (RoleKind.PROVIDER, RoleKind.SCHOOL_ADMIN, RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)

KIND_LABELS = {
    "declaration": _("学时申报截止"),
    "school_review": _("学校初审截止"),
    "district_review": _("区复审截止"),
    "registration": _("培训学时登记截止（市、区集中培训）"),
    "registration_school": _("校本培训、教研活动学时登记截止"),
    "extension": _("逾期登记延期申请截止"),
    "exchange_opens": _("积分兑换开始"),
    "exchange_closes": _("积分兑换截止"),
    "notice_ends": _("公示及异议截止"),
    "cycle_end": _("继续教育周期结束"),
}


@dataclass(frozen=True)
class Deadline:
    key: str
    kind: str
    date: datetime.date
    year: int
    audience: tuple[str, ...] = field(default=())
    detail: str = ""

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])

    def days_left(self, today: datetime.date) -> int:
        return (self.date - today).days


DATE_FIELDS = ("declaration_deadline", "school_review_deadline", "district_review_deadline")
EXCHANGE_KINDS = ("exchange_opens", "exchange_closes")


def _year_dates(year: int) -> dict[str, datetime.date]:
    """The year's review deadlines as the city set them, or the defaults (a read never creates the year)."""
    return _years_dates([year])[year]


def _years_dates(years: list[int]) -> dict[int, dict[str, datetime.date]]:
    """`_year_dates` of several years in one statement."""
    found = {
        row["year"]: {f: row[f] for f in DATE_FIELDS} for row in Year.objects.filter(year__in=years).values("year", *DATE_FIELDS)
    }
    return {year: found.get(year) or Year.defaults_for(year) for year in years}


def year_deadlines(
    year: int, *, kinds: tuple[str, ...] | None = None, dates: dict[str, datetime.date] | None = None
) -> list[Deadline]:
    """Every city-wide deadline of verification year `year`, in date order (a few queries). With `kinds`,
    the exchange window is read only when one of its kinds is wanted (the rest cost no query); `dates`:
    the year's row already read (`_years_dates`)."""
    from points.models import ExchangeWindow

    d = dates if dates is not None else _year_dates(year)
    items = [
        Deadline(f"{year}:declaration", "declaration", d["declaration_deadline"], year, (T,)),
        Deadline(f"{year}:school_review", "school_review", d["school_review_deadline"], year, (*SCHOOL, T)),
        Deadline(f"{year}:district_review", "district_review", d["district_review_deadline"], year, AREA),
        Deadline(f"{year}:extension", "extension", datetime.date(year, 12, 1), year, ORGANISERS),
        Deadline(f"{year}:registration", "registration", datetime.date(year, 12, 31), year, ORGANISERS),
        Deadline(f"{year}:registration_school", "registration_school", datetime.date(year + 1, 1, 31), year, ORGANISERS),
    ]
    window = ExchangeWindow.objects.filter(year=year).first() if kinds is None or set(kinds) & set(EXCHANGE_KINDS) else None
    if window is not None:
        items.append(Deadline(f"{year}:exchange_opens", "exchange_opens", window.opens_on, year, (T,)))
        items.append(Deadline(f"{year}:exchange_closes", "exchange_closes", window.closes_on, year, (T, *SCHOOL)))
    return sorted(items, key=lambda x: (x.date, x.key))


def notice_deadlines(role: Role | None, year: int) -> list[Deadline]:
    """The public-notice windows (and so the complaint windows) of the schools in the role's scope."""
    from verification.models import Notice

    if role is None:
        return []
    notices = Notice.objects.filter(year=year).select_related("school")
    if role.kind in (T, *SCHOOL):
        notices = notices.filter(school_id=_school_id(role))
    elif role.kind in AREA:
        notices = notices.filter(school__path__startswith=role.organisation.path)
    else:
        return []
    from django.utils import timezone

    return [
        Deadline(
            f"{year}:notice:{n.school_id}",
            "notice_ends",
            timezone.localdate(n.ends_at),
            year,
            (T, *SCHOOL, *AREA),
            n.school.name,
        )
        for n in notices
    ]


def _school_id(role: Role) -> int | None:
    if role.kind == T:
        from accounts.models import Teacher

        return Teacher.objects.filter(user_id=role.user_id).values_list("school_id", flat=True).first()
    return role.organisation_id


def cycle_deadline(role: Role | None) -> list[Deadline]:
    """A teacher's cycle end, in the five-year cycle regime (read-only: no cycle is opened here)."""
    if role is None or role.kind != T or settings.CPD_REGIME != "cycle":
        return []
    from cycles.models import CycleState, TeacherCycle  # installed in a cycle deployment only

    cycle = TeacherCycle.objects.filter(teacher__user_id=role.user_id, state=CycleState.ACTIVE).first()
    if cycle is None:
        return []
    return [Deadline(f"cycle:{cycle.pk}:end", "cycle_end", cycle.end_date, cycle.end_date.year, (T,))]


def deadlines_for(role: Role | None, years: list[int], kinds: tuple[str, ...] | None = None) -> list[Deadline]:
    """The deadlines that matter to `role` in the given verification years, in date order (only `kinds`,
    when given: the sources of other kinds are not read, so the teacher's card reads one row of years)."""
    if role is None:
        return []
    items: list[Deadline] = []
    dates = _years_dates(years)
    for year in years:
        items += [
            d
            for d in year_deadlines(year, kinds=kinds, dates=dates[year])
            if role.kind in d.audience and (kinds is None or d.kind in kinds)
        ]
        if kinds is None or "notice_ends" in kinds:
            items += notice_deadlines(role, year)
    if kinds is None or "cycle_end" in kinds:
        items += cycle_deadline(role)
    return sorted(items, key=lambda x: (x.date, x.key))


def next_deadline(role: Role | None, today: datetime.date, kinds: tuple[str, ...] | None = None) -> Deadline | None:
    """The nearest deadline on or after today that matters to the role (optionally only some kinds)."""
    for d in deadlines_for(role, [today.year - 1, today.year], kinds):
        if d.date >= today and (kinds is None or d.kind in kinds):
            return d
    return None
