"""To-do lists of reviewers and administrators (SPEC §9): what is waiting for me, how much, by when,
and a link to the page where it is done. Each count is the count of the page it links to, read
through the same scoped selector that page uses.

Each item is a step (`cpd.batch`): it yields its counts, existence tests and single values instead of
asking them, and `todo_list` sends every item's questions of a round as one statement: the district's
to-dos asked twelve statements, now seven (a city's twelve, now five). `<kind>_item(role, …)` runs one
item alone."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.models import Organisation, OrgKind, Role, RoleKind
from cpd import batch
from cpd.batch import Step
from hours import selectors as hours_selectors
from hours.models import DeclarationState, Year
from training.models import ComplaintState as RegComplaintState
from training.models import EnrolmentState, ExtensionState, RegistrationExtension, TrainingProject

from . import deadlines

REGISTRATION_SOON_DAYS = 30


@dataclass
class Item:
    key: str
    label: str
    count: int
    url: str
    deadline: datetime.date | None = None
    more: bool = False  # the count is a lower bound ("1000+")

    @property
    def days_left(self) -> int | None:
        return (self.deadline - timezone.localdate()).days if self.deadline else None


def _url(name: str, **query) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(query)}" if query else url


def _year_deadline(years, field: str) -> datetime.date | None:
    years = sorted(set(years))
    if not years:
        return None
    stored = dict(Year.objects.filter(year__in=years).values_list("year", field))
    return min(stored.get(y) or Year.defaults_for(y)[field] for y in years)


def verification_year(today: datetime.date) -> int:
    """The year whose notice, confirmations and finalisation are under way: last year."""
    return today.year - 1


# --- one function per kind of item -------------------------------------------------------------------------


def review_item(role: Role, level: str) -> Item:
    field = "school_review_deadline" if level == "school" else "district_review_deadline"
    label = _("待初审的申报") if level == "school" else _("待复审的申报")
    # The queue page's own counts (exact up to hours_selectors.QUEUE_COUNT_CAP a year, then "1000+").
    counts = hours_selectors.queue_counts(role, level)
    total, more = hours_selectors.counts_capped(counts)
    return Item(f"review_{level}", str(label), total, _url("review_queue"), _year_deadline(list(counts), field), more=more)


def returned_qs(role: Role):
    return hours_selectors.declarations_visible_to(role).filter(state=DeclarationState.RETURNED)


def returned_item(role: Role) -> Item:
    # One grouped statement gives the years (for the deadline) and, summed, the count.
    per_year = dict(returned_qs(role).order_by().values("year").annotate(n=Count("pk")).values_list("year", "n"))
    years = list(per_year)
    return Item(
        "returned",
        str(_("已退回、等待教师修改的申报")),
        sum(per_year.values()),
        _url("home_returned"),
        _year_deadline(years, "school_review_deadline"),
    )


def points_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_points(role, today))


def _points(role: Role, today: datetime.date) -> Step[Item]:
    from points.models import ExchangeWindow, RequestState
    from points.services import requests_visible_to

    qs = requests_visible_to(role).filter(state=RequestState.PENDING)
    n, closes_on = yield (
        batch.count(qs),
        batch.value(ExchangeWindow.objects.filter(year=today.year).values("closes_on")),
    )
    return Item(
        "points",
        str(_("待确认付款的积分兑换")),
        n,
        _url("school_requests"),
        closes_on if closes_on and closes_on >= today else None,
    )


def roster_item(role: Role) -> Item:
    school = account_selectors.schools_with_confirmation(role).filter(pk=role.organisation_id).first()
    last = school.last_confirmed if school else None
    due = (timezone.localdate(last) + datetime.timedelta(days=_max_age())) if last else timezone.localdate()
    # As schools_overdue_confirmation(role) would answer for this school (visible, active, nothing since the cutoff).
    overdue = school is not None and account_selectors.confirmation_overdue(last)
    return Item("roster", str(_("名册确认（每半年至少一次）")), int(overdue), _url("roster_list"), due)


def _max_age() -> int:
    from django.conf import settings

    return settings.ROSTER_CONFIRMATION_MAX_AGE_DAYS


def notice_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_notice(role, today))


def _notice(role: Role, today: datetime.date) -> Step[Item]:
    from verification.models import Confirmation, Notice, VerificationResult, YearPolicy

    year = verification_year(today)
    school = role.organisation
    results, notice, confirmed, finalised = yield (
        batch.exists(VerificationResult.objects.filter(year=year, school=school)),
        batch.exists(Notice.objects.filter(school=school, year=year)),
        batch.exists(Confirmation.objects.filter(organisation=school, year=year)),
        batch.exists(YearPolicy.objects.filter(year=year, finalised_at__isnull=False)),
    )
    due = results and not notice and not confirmed and not finalised
    return Item("notice", str(_("待发布的验证结果公示")), int(due), _url("notice", year=year))


def _capped_count(qs: QuerySet) -> batch.Read:
    """(count, more): exact up to `hours_selectors.QUEUE_COUNT_CAP`, then the cap and "more" ("1000+"), as the
    review queues count: an area's whole backlog joined to its scope cost hundreds of ms at province scale."""
    return batch.capped(qs, hours_selectors.QUEUE_COUNT_CAP)


def result_complaints_item(role: Role) -> Item:
    return batch.one(_result_complaints(role))


def _result_complaints(role: Role) -> Step[Item]:
    from verification.models import ComplaintState, Notice
    from verification.selectors import complaints_visible_to

    qs = complaints_visible_to(role).filter(state=ComplaintState.OPEN)
    count, more = yield _capped_count(qs)
    # The earliest end among the notices they were filed under: the scope's open complaints give their notices'
    # ids from the index on (school, state, notice) (verification 0012), then one row per notice, never a join
    # of every open complaint of the city through its result.
    first = None
    if count:
        first = yield batch.smallest(Notice.objects.filter(pk__in=qs.order_by().values("notice_id")), "ends_at")
    deadline = timezone.localdate(first) if first else None
    return Item("result_complaints", str(_("待处理的结果异议")), count, _url("result_complaints"), deadline, more)


def registration_complaints_item(role: Role) -> Item:
    return batch.one(_registration_complaints(role))


def _registration_complaints(role: Role) -> Step[Item]:
    from training.projects import complaints_for_organiser

    qs = complaints_for_organiser(role).filter(state=RegComplaintState.OPEN)
    n = yield batch.count(qs)
    return Item("registration_complaints", str(_("待处理的学时登记异议")), n, _url("complaint_list"))


ENROLMENT_QUEUE = {
    RoleKind.PRINCIPAL: EnrolmentState.APPLIED,
    RoleKind.DISTRICT_ADMIN: EnrolmentState.PRINCIPAL_APPROVED,
    RoleKind.CITY_ADMIN: EnrolmentState.DISTRICT_APPROVED,
}


def enrolment_item(role: Role) -> Item:
    return batch.one(_enrolments(role))


def _enrolments(role: Role) -> Step[Item]:
    from training.projects import enrolments_visible_to

    qs = enrolments_visible_to(role).filter(state=ENROLMENT_QUEUE[role.kind])
    count, more = yield _capped_count(qs)
    # The earliest start among the waiting enrolments' projects: the projects by start (training 0003), each
    # probed for one waiting enrolment in scope by (project, state), up to the first that has one. A scalar
    # subquery, not EXISTS, so the planner cannot turn it into a join of every waiting enrolment of the scope.
    first = None
    if count:
        waiting = qs.order_by().filter(project=OuterRef("pk")).values("pk")[:1]
        first = yield batch.value(
            TrainingProject.objects.annotate(waiting=Subquery(waiting))
            .filter(waiting__isnull=False)
            .order_by("start_date", "pk")
            .values("start_date")
        )
    return Item("enrolments", str(_("待审核的报名")), count, _url("enrolment_list"), first, more)


def school_confirmation_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_school_confirmation(role, today))


def _school_confirmation(role: Role, today: datetime.date) -> Step[Item]:
    """The principal's confirmation is due once the notice closed with no open complaint."""
    from verification.models import ComplaintState, Confirmation, Notice, ResultComplaint

    year = verification_year(today)
    notice = Notice.objects.filter(school=role.organisation, year=year).first()
    due = False
    if notice is not None and not notice.is_open:
        complained, confirmed = yield (
            batch.exists(ResultComplaint.objects.filter(notice=notice, state=ComplaintState.OPEN)),
            batch.exists(Confirmation.objects.filter(organisation=role.organisation, year=year)),
        )
        due = not complained and not confirmed
    return Item("confirm_school", str(_("待确认上报的本校结果")), int(due), _url("notice", year=year))


def district_confirmation_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_district_confirmation(role, today))


def _district_confirmation(role: Role, today: datetime.date) -> Step[Item]:
    from verification.models import Confirmation, VerificationResult
    from verification.selectors import schools_pending_confirmation

    year = verification_year(today)
    district = role.organisation
    results, confirmed = yield (
        batch.exists(VerificationResult.objects.filter(year=year, school__parent=district)),
        batch.exists(Confirmation.objects.filter(organisation=district, year=year)),
    )
    due = results and not confirmed and not schools_pending_confirmation(district, year)
    return Item("confirm_district", str(_("待确认的本区结果")), int(due), _url("confirmations", year=year))


def _late_reasons(role: Role, today: datetime.date) -> dict[int, set[str]]:
    return batch.one(_late_reasons_step(role, today))


def _late_reasons_step(role: Role, today: datetime.date) -> Step[dict[int, set[str]]]:
    """{unit id: reasons} of the schools (for a district) or districts (for the city) that are late: a roster
    unconfirmed for six months, or, after the notice week, results not yet confirmed for last year. Ids only:
    a district of 3,000 overdue schools is counted without building 3,000 objects."""
    from verification.models import Confirmation, Notice, VerificationResult
    from verification.selectors import districts_pending_confirmation, schools_pending_confirmation

    year = verification_year(today)
    rows: dict[int, set[str]] = {}
    # a district's overdue schools, or the city's districts that have some (cached for seconds: the overview)
    reason = str(_("名册超过6个月未确认"))
    for pk in account_selectors.roster_overview(role).overdue_units:
        rows.setdefault(pk, set()).add(reason)
    if (yield batch.exists(VerificationResult.objects.filter(year=year))):
        if role.kind == RoleKind.DISTRICT_ADMIN:
            closed = set(Notice.objects.filter(year=year, ends_at__lt=timezone.now()).values_list("school_id", flat=True))
            for s in schools_pending_confirmation(role.organisation, year):
                if s.pk in closed:
                    rows.setdefault(s.pk, set()).add(str(_("公示结束后尚未确认结果")))
            unpublished = Organisation.objects.filter(
                pk__in=VerificationResult.objects.filter(year=year, school__parent=role.organisation).values("school_id")
            ).exclude(pk__in=Notice.objects.filter(year=year).values("school_id"))
            unpublished = unpublished.exclude(pk__in=Confirmation.objects.filter(year=year).values("organisation_id"))
            reason = str(_("尚未公示验证结果"))
            for pk in unpublished.values_list("pk", flat=True):
                rows.setdefault(pk, set()).add(reason)
        elif role.kind == RoleKind.CITY_ADMIN:
            for d in districts_pending_confirmation(role.organisation, year):
                rows.setdefault(d.pk, set()).add(str(_("尚未确认本区结果")))
    return rows


def late_units(role: Role, today: datetime.date) -> list[dict]:
    """The late units with their reasons, by code (the page behind the to-do item)."""
    reasons = _late_reasons(role, today)
    units = Organisation.objects.in_bulk(list(reasons))
    rows = [{"unit": units[pk], "reasons": sorted(r)} for pk, r in reasons.items() if pk in units]
    return sorted(rows, key=lambda r: r["unit"].code)


def late_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_late(role, today))


def _late(role: Role, today: datetime.date) -> Step[Item]:
    label = _("逾期的学校") if role.kind == RoleKind.DISTRICT_ADMIN else _("逾期的区")
    reasons = yield from _late_reasons_step(role, today)
    return Item("late", str(label), len(reasons), _url("home_late"))


def runs_item(role: Role) -> Item:
    from verification.models import RunStatus, VerificationRun, YearPolicy

    finalised = YearPolicy.objects.filter(finalised_at__isnull=False).values("year")
    latest: dict[int, str] = {}
    for year, status in (
        VerificationRun.objects.filter(district__isnull=True)
        .exclude(year__in=finalised)
        .order_by("year", "started_at", "pk")
        .values_list("year", "status")
    ):
        latest[year] = status
    bad = sum(1 for s in latest.values() if s in (RunStatus.FAILED, RunStatus.INTERRUPTED))
    return Item("runs", str(_("失败或中断、需要重新运行的验证")), bad, _url("run_list"))


def finalise_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_finalise(role, today))


def _finalise(role: Role, today: datetime.date) -> Step[Item]:
    from verification.models import YearPolicy

    year = verification_year(today)
    dates = deadlines._year_dates(year)
    due = today > dates["district_review_deadline"] and (
        yield batch.exists(YearPolicy.objects.filter(year=year, finalised_at__isnull=True))
    )
    return Item("finalise", str(_("待定稿的年度")), int(due), _url("confirmations", year=year))


def exports_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_exports(role, today))


def _exports(role: Role, today: datetime.date) -> Step[Item]:
    from verification.exports import exports_visible_to
    from verification.models import ExportStatus

    since = timezone.now() - datetime.timedelta(days=7)
    n = yield batch.count(exports_visible_to(role).filter(status=ExportStatus.FAILED, created_at__gte=since))
    return Item("exports", str(_("最近7天失败的导出")), n, _url("export_list"))


def settings_item(role: Role, today: datetime.date) -> Item:
    return batch.one(_settings(role, today))


def _settings(role: Role, today: datetime.date) -> Step[Item]:
    """The city's yearly settings that are missing: this year's verification policy and points window."""
    missing = yield from _missing_settings(today)
    return Item("settings", str(_("待设置的年度参数")), len(missing), _url("home_settings"))


def missing_settings(today: datetime.date) -> list[dict]:
    return batch.one(_missing_settings(today))


def _missing_settings(today: datetime.date) -> Step[list[dict]]:
    from points.models import ExchangeWindow
    from verification.models import YearPolicy

    policy, window = yield (
        batch.exists(YearPolicy.objects.filter(year=today.year)),
        batch.exists(ExchangeWindow.objects.filter(year=today.year)),
    )
    out = []
    if settings.CPD_REGIME == "annual" and not policy:
        out.append({"label": str(_("%(year)s年度验证标准") % {"year": today.year}), "url": reverse("policy_list")})
    if not window:
        out.append({"label": str(_("%(year)s年度积分兑换时间") % {"year": today.year}), "url": reverse("points_rules")})
    return out


def extensions_item(role: Role) -> Item:
    return batch.one(_extensions(role))


def _extensions(role: Role) -> Step[Item]:
    qs = RegistrationExtension.objects.filter(
        project__organiser__path__startswith=role.organisation.path, state=ExtensionState.PENDING
    )
    n = yield batch.count(qs)
    return Item("extensions", str(_("待审批的延期登记申请")), n, _url("extension_list"))


def projects_due(role: Role, today: datetime.date) -> list:
    """The organiser's projects that have ended and whose registration deadline is within 30 days."""
    from training.models import TrainingProject
    from training.projects import projects_managed_by

    horizon = today + datetime.timedelta(days=REGISTRATION_SOON_DAYS)
    candidates = (
        projects_managed_by(role)
        .filter(published_at__isnull=False, start_date__lte=today, start_date__year__gte=today.year - 1)
        .prefetch_related("extensions")
    )
    due = [p for p in candidates if today <= p.registration_deadline() <= horizon]
    return sorted(due, key=lambda p: (p.registration_deadline(), p.pk)) if due else list(TrainingProject.objects.none())


def projects_due_item(role: Role, today: datetime.date) -> Item:
    due = projects_due(role, today)
    return Item(
        "projects_due",
        str(_("学时登记即将截止的项目")),
        len(due),
        _url("home_projects_due"),
        min((p.registration_deadline() for p in due), default=None),
    )


# --- per role -------------------------------------------------------------------------------------------------


def todo_list(role: Role, today: datetime.date) -> list[Item]:
    kind = role.kind
    # The annual verification's to-dos (notice, confirmations, runs, finalisation, exports) exist only
    # where years are verified: a cycle deployment has none of their pages.
    annual = settings.CPD_REGIME == "annual"
    steps: list[Step[Item] | Item]
    if kind == RoleKind.SCHOOL_ADMIN:
        steps = [
            review_item(role, "school"),
            returned_item(role),
            _points(role, today),
            roster_item(role),
            *([_notice(role, today)] if annual else []),
            _registration_complaints(role),
        ]
    elif kind == RoleKind.PRINCIPAL:
        steps = [
            _enrolments(role),
            *([_school_confirmation(role, today), _notice(role, today)] if annual else []),
            roster_item(role),
            _points(role, today),
        ]
    elif kind == RoleKind.DISTRICT_ADMIN:
        steps = [
            review_item(role, "district"),
            *([_result_complaints(role)] if annual else []),
            _enrolments(role),
            *([_district_confirmation(role, today), _late(role, today)] if annual else []),
            _registration_complaints(role),
        ]
    elif kind == RoleKind.CITY_ADMIN:
        steps = [
            *([runs_item(role), _finalise(role, today), _exports(role, today)] if annual else []),
            _settings(role, today),
            _extensions(role),
            _enrolments(role),
            *([_late(role, today)] if annual else []),
            _registration_complaints(role),
        ]
    elif kind == RoleKind.PROVIDER:
        steps = [projects_due_item(role, today), _registration_complaints(role)]
    else:
        steps = []
    # Every step's counts and probes of a round in one statement (cpd.batch); the items that read rows (the
    # review queue's per-year counts, the late units, the runs) have read them already, on their own.
    return batch.run(steps)


def nearest_deadline(items: list[Item], today: datetime.date) -> Item | None:
    pending = [i for i in items if i.count and i.deadline and i.deadline >= today]
    return min(pending, key=lambda i: i.deadline, default=None)


__all__ = ["Item", "OrgKind", "todo_list", "nearest_deadline", "late_units", "projects_due", "missing_settings"]
