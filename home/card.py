"""The teacher's compliance card (SPEC §9): where do I stand for the open period, what is
missing, by when, and which concrete activities and points can close the gap before then."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q, QuerySet

from accounts.models import Role, Teacher
from hours.models import Category, Declaration, DeclarationState, LedgerEntry, Source
from training.models import LIVE_ENROLMENT, SCHOOL_BASED_KINDS, Enrolment, OnlineCourse, TrainingProject
from verification.models import ResultStatus, VerificationResult, YearPolicy

from . import deadlines, figures

ZERO = Decimal("0")


@dataclass
class Row:
    category: str
    label: str
    counted: Decimal
    minimum: Decimal | None
    missing: Decimal
    pending: Decimal = ZERO
    carry_in: Decimal = ZERO

    @property
    def percent(self) -> int:
        if not self.minimum:
            return 100
        return min(100, int(self.counted * 100 / self.minimum))


@dataclass
class Card:
    teacher: Teacher
    regime: str
    period_label: str
    year: int
    rows: list[Row]
    has_policy: bool
    done: bool
    missing_categories: list[str]
    deadline: deadlines.Deadline | None
    days_left: int | None
    projects: list[TrainingProject] = field(default_factory=list)
    courses: list[OnlineCourse] = field(default_factory=list)
    points: dict | None = None
    returned: int = 0
    history: list[VerificationResult] = field(default_factory=list)
    cycle: object | None = None


def _labels() -> dict[str, str]:
    return dict(Category.choices)


def compliance_card(role: Role, teacher: Teacher, today: datetime.date) -> Card:
    if settings.CPD_REGIME == "cycle":
        return _cycle_card(role, teacher, today)
    year = today.year
    policy = YearPolicy.objects.filter(year=year).first()
    fig = figures.teacher_year_figures(teacher_id=teacher.pk, year=year)
    pending = figures.pending_hours(year=year, teacher_ids=[teacher.pk]).get(teacher.pk, {})
    short = figures.shortfalls(policy, fig) if policy else {}
    mins = figures.minimums(policy) if policy else {}
    labels = _labels()
    rows = [
        Row(
            c,
            labels[c],
            getattr(fig, c),
            mins.get(c),
            short.get(c, ZERO),
            pending.get(c, ZERO),
            fig.carry_in if c == "professional" else ZERO,
        )
        for c in figures.CATEGORIES
    ]
    from django.utils.translation import gettext as _

    rows.append(Row("total", _("合计"), fig.total, mins.get("total"), short.get("total", ZERO), pending.get("total", ZERO)))
    missing = [c for c in figures.CATEGORIES if short.get(c, ZERO) > 0]
    if not missing and short.get("total", ZERO) > 0:
        missing = list(figures.CATEGORIES)  # only the total is short: any category closes it
    deadline = deadlines.next_deadline(role, today, kinds=("declaration",))
    card = Card(
        teacher=teacher,
        regime="annual",
        period_label=str(year),
        year=year,
        rows=rows,
        has_policy=policy is not None,
        done=policy is not None and not any(v > 0 for v in short.values()),
        missing_categories=missing,
        deadline=deadline,
        days_left=deadline.days_left(today) if deadline else None,
        returned=Declaration.objects.filter(teacher=teacher, state=DeclarationState.RETURNED).count(),
        history=final_results(teacher, today),
    )
    if missing and deadline is not None:
        card.projects = gap_projects(role, teacher, missing, today, deadline.date)
        card.courses = gap_courses(teacher, missing, year)
        card.points = gap_points(teacher, missing, short, today)
    return card


def gap_projects(
    role: Role,
    teacher: Teacher,
    categories: list[str],
    today: datetime.date,
    deadline: datetime.date,
    *,
    school_based: bool = False,
):
    """Published projects of the missing categories whose hours count in time: enrolment open today
    (or no enrolment and not started yet), ending by the deadline; the teacher not already enrolled."""
    from training.projects import projects_visible_to

    enrolled = Enrolment.objects.filter(teacher=teacher, state__in=LIVE_ENROLMENT).values("project_id")
    qs = (
        projects_visible_to(role)
        .filter(published_at__isnull=False, end_date__lte=deadline, end_date__gte=today)
        .filter(Q(enrolment_start__lte=today, enrolment_end__gte=today) | Q(enrolment_start__isnull=True, start_date__gte=today))
        .exclude(pk__in=enrolled)
    )
    qs = qs.filter(kind__in=SCHOOL_BASED_KINDS) if school_based else qs.filter(category__in=categories)
    return list(qs.order_by(F("enrolment_end").asc(nulls_last=True), "start_date", "pk")[:8])


def gap_courses(teacher: Teacher, categories: list[str], year: int):
    """Active online courses of the missing categories the teacher has not completed this year."""
    done = LedgerEntry.objects.filter(teacher=teacher, year=year, source=Source.ONLINE_COURSE).values("title")
    return list(OnlineCourse.objects.filter(is_active=True, category__in=categories).exclude(title__in=done).order_by("code")[:8])


def gap_points(teacher: Teacher, categories: list[str], short: dict[str, Decimal], today: datetime.date) -> dict | None:
    """How many whole hours the teacher's points can still buy this year in the missing categories:
    the balance, the yearly caps (pending and paid requests counted) and the exchange window."""
    from points.models import POINTS_PER_HOUR
    from points.services import exchangeable_now

    wanted = [c for c in categories if c in ("professional", "elective")]
    if not wanted:
        return None
    ex = exchangeable_now(teacher, today.year)
    if ex["balance"] < POINTS_PER_HOUR and not ex["held"]:
        return None
    window = ex["window"]
    closed = window is None or window.closes_on < today
    per = {c: (0 if closed else ex["per_category"][c]) for c in wanted}
    useful = {
        c: min(per[c], int((short.get(c) or short.get("total") or ZERO).to_integral_value(rounding="ROUND_CEILING")))
        for c in wanted
    }
    return {
        "balance": ex["balance"],
        "held": ex["held"],
        "window": window,
        "open": ex["open"],
        "closed": closed,
        "not_yet": window is not None and window.opens_on > today,
        "per_category": per,
        "useful": useful,
        # The categories share one balance: together they can buy no more than it affords.
        "hours": min(sum(useful.values()), ex["balance"] // POINTS_PER_HOUR),
        "labels": _labels(),
    }


def final_results(teacher: Teacher, today: datetime.date) -> list[VerificationResult]:
    """Past years' verdicts a teacher may see: only final ones (the year finalised by the city, or computed
    after the year's last review deadline); a provisional run is never shown to a teacher (SPEC §9)."""
    return only_final(VerificationResult.objects.filter(teacher=teacher, year__lt=today.year).order_by("-year"))


def only_final(results: QuerySet[VerificationResult]) -> list[VerificationResult]:
    """The final ones of these past years' results (the year finalised, or computed after its last review
    deadline), in their order: `final_results`' rule, for one teacher's years or one year's school.

    One statement: each result carries whether its year is finalised and its year's stored review deadline."""
    from django.db.models import Exists, OuterRef, Subquery
    from django.utils import timezone

    from hours.models import Year

    annotated = results.annotate(
        year_finalised=Exists(YearPolicy.objects.filter(year=OuterRef("year"), finalised_at__isnull=False)),
        stored_deadline=Subquery(Year.objects.filter(year=OuterRef("year")).values("district_review_deadline")[:1]),
    )
    shown = []
    for r in annotated:
        deadline = r.stored_deadline or Year.defaults_for(r.year)["district_review_deadline"]
        if r.year_finalised or timezone.localdate(r.computed_at) > deadline:
            shown.append(r)
    return shown


def _cycle_card(role: Role, teacher: Teacher, today: datetime.date) -> Card:
    """The five-year cycle: total and school-based hours of the cycle so far against 360 / 80."""
    from django.utils.translation import gettext as _

    from cycles import rules as cycles

    p = cycles.progress(teacher, today)
    pending = figures.pending_hours(year=today.year, teacher_ids=[teacher.pk]).get(teacher.pk, {})
    rows = [
        Row("school_based", _("校本研修"), p.school_based, p.policy.min_school_based, p.missing_school_based),
        Row("total", _("周期总学时"), p.total, p.policy.total_hours, p.missing_total, pending.get("total", ZERO)),
    ]
    end = p.cycle.end_date
    deadline = deadlines.Deadline(f"cycle:{p.cycle.pk}:end", "cycle_end", end, end.year, ("teacher",))
    card = Card(
        teacher=teacher,
        regime="cycle",
        period_label=f"{p.cycle.start_date:%Y-%m-%d} ~ {end:%Y-%m-%d}",
        year=today.year,
        rows=rows,
        has_policy=True,
        done=p.complete,
        missing_categories=list(figures.CATEGORIES) if not p.complete else [],
        deadline=deadline,
        days_left=deadline.days_left(today),
        returned=Declaration.objects.filter(teacher=teacher, state=DeclarationState.RETURNED).count(),
        cycle=p,
    )
    if not p.complete:
        last_day = min(end - datetime.timedelta(days=1), datetime.date(today.year, 12, 31))
        card.projects = gap_projects(role, teacher, card.missing_categories, today, last_day, school_based=p.missing_total == 0)
        card.courses = gap_courses(teacher, card.missing_categories, today.year) if p.missing_total > 0 else []
    return card


__all__ = ["Card", "Row", "compliance_card", "final_results", "gap_courses", "gap_points", "gap_projects", "ResultStatus"]
