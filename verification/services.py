"""Every write of the verification workflow: policies, runs, exemptions, notices, complaints,
confirmations and finalisation (SPEC §5)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, TeacherStatus, User
from accounts.selectors import deployment_city
from cpd.db import analyze
from cpd.errors import NotFound, StateConflict
from cpd.i18n import source_language
from cpd.tasks import enqueue
from hours import ledger
from hours.models import Category, LedgerEntry, Notification, Source, Year

from . import selectors
from .engine import plan_chunks, verify_chunk
from .models import (
    NOTICE_DAYS,
    AreaYearStats,
    ComplaintCorrection,
    ComplaintState,
    Confirmation,
    Exemption,
    Notice,
    PolicyRevision,
    ResultComplaint,
    RunChunk,
    RunStatus,
    SchoolYearStats,
    VerificationResult,
    VerificationRun,
    YearPolicy,
)

POLICY_FIELDS = ("min_total", "min_public", "min_professional", "min_elective", "hours_per_day", "carry_rule")
DEADLINE_FIELDS = ("declaration_deadline", "school_review_deadline", "district_review_deadline")
STALE_RUN = datetime.timedelta(minutes=15)


def _require_city(role: Role | None) -> None:
    if role is None or role.kind != RoleKind.CITY_ADMIN:
        raise PermissionDenied(_("只有市管理员可以办理此操作。"))


def _require_not_finalised(year: int) -> YearPolicy:
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None:
        raise ValidationError({"year": _("%(year)s年度尚未设定验证标准，请先在“年度验证标准”中设定。") % {"year": year}})
    if policy.is_finalised:
        raise StateConflict(_("%(year)s年度已定稿，不能再更改。") % {"year": year})
    return policy


# --- policies --------------------------------------------------------------------------------------


def policy_create_next(*, role: Role, actor: User, year: int) -> YearPolicy:
    """A new year starts as a copy of the latest earlier year's policy (and of its deadlines' pattern)."""
    _require_city(role)
    if YearPolicy.objects.filter(year=year).exists():
        raise StateConflict(_("%(year)s年度的验证标准已存在。") % {"year": year})
    previous = YearPolicy.objects.filter(year__lt=year).order_by("-year").first()
    if previous is None:
        raise ValidationError({"year": _("没有可复制的上一年度标准。")})
    with transaction.atomic():
        policy = YearPolicy.objects.create(year=year, **{f: getattr(previous, f) for f in POLICY_FIELDS})
        Year.get_or_create_for(year)
        PolicyRevision.objects.create(policy=policy, actor=actor, changes={"copied_from": previous.year, **_snapshot(policy)})
    return policy


def _snapshot(policy: YearPolicy) -> dict[str, Any]:
    return {f: str(getattr(policy, f)) for f in POLICY_FIELDS}


def policy_update(*, role: Role, actor: User, year: int, data: dict[str, Any]) -> YearPolicy:
    """Change a year's minimums, carry rule or deadlines; every change is kept with who and when."""
    _require_city(role)
    with transaction.atomic():
        policy = YearPolicy.objects.select_for_update().filter(year=year).first()
        if policy is None:
            raise NotFound
        if policy.is_finalised:
            raise StateConflict(_("%(year)s年度已定稿，不能再更改。") % {"year": year})
        before = _snapshot(policy)
        for field in POLICY_FIELDS:
            if field in data and data[field] is not None:
                setattr(policy, field, data[field])
        policy.full_clean()
        policy.save()
        # Read the stored values back so that "30" from a form and "30.0" from the database compare equal.
        policy.refresh_from_db()
        year_obj = Year.get_or_create_for(year)
        deadlines_before = {f: str(getattr(year_obj, f)) for f in DEADLINE_FIELDS}
        deadline_data = {f: data[f] for f in DEADLINE_FIELDS if data.get(f)}
        if deadline_data:
            from hours.services import year_update

            year_obj = year_update(role=role, year=year, data=deadline_data)
        after = _snapshot(policy)
        changes = {f: [before[f], after[f]] for f in POLICY_FIELDS if before[f] != after[f]}
        for f in DEADLINE_FIELDS:
            if str(getattr(year_obj, f)) != deadlines_before[f]:
                changes[f] = [deadlines_before[f], str(getattr(year_obj, f))]
        if changes:
            PolicyRevision.objects.create(policy=policy, actor=actor, changes=changes)
    return policy


# --- runs --------------------------------------------------------------------------------------------


def _require_annual_regime() -> None:
    """The annual engine refuses to run in a cycle deployment (its verdicts would mean nothing there)."""
    if settings.CPD_REGIME != "annual":
        raise StateConflict(_("本平台按五年周期考核，不进行年度验证。"))


def last_review_deadline(year: int) -> datetime.date:
    """The year's district review deadline (复审截止): the last day its hours can still change."""
    row = Year.objects.filter(year=year).only("district_review_deadline").first()
    return row.district_review_deadline if row else Year.defaults_for(year)["district_review_deadline"]


def run_is_provisional(year: int, provisional: bool | None = None, today: datetime.date | None = None) -> bool:
    """Whether a run of `year` started now is provisional (试算), or refuse the kind asked for.

    Before the last review deadline a run can only be provisional: administrators see its results,
    teachers never see them as a verdict (SPEC §9). After it only the final run makes sense: a
    provisional one would hide the final results from the teachers. `None` takes the kind the date allows.
    """
    deadline = last_review_deadline(year)
    before = (today or timezone.localdate()) <= deadline
    if provisional is None:
        return before
    if before and not provisional:
        raise StateConflict(
            _("%(year)s年度的复审截止日期（%(date)s）还没到，正式验证须在此之后；现在只能试算（临时结果，教师看不到）。")
            % {"year": year, "date": f"{deadline:%Y-%m-%d}"}
        )
    if not before and provisional:
        raise StateConflict(
            _("%(year)s年度的复审已于 %(date)s 截止，请进行正式验证。") % {"year": year, "date": f"{deadline:%Y-%m-%d}"}
        )
    return before


def run_start(
    *,
    role: Role | None,
    actor: User | None,
    year: int,
    district: Organisation | None = None,
    inline: bool = False,
    provisional: bool | None = None,
) -> VerificationRun:
    """Start verifying `year` for the city (or one district). A second start while one runs is refused.

    A run whose workers stopped reporting for 15 minutes is marked interrupted and may be
    started again; results are upserted, so the new run gives the same results. Before the year's
    last review deadline the run is provisional (see `run_is_provisional`; asking for a final one is 409).
    """
    _require_annual_regime()
    if role is not None:
        _require_city(role)
    _require_not_finalised(year)
    provisional = run_is_provisional(year, provisional)
    city = role.organisation if role is not None else deployment_city()
    if district is not None and (
        district.kind not in (OrgKind.DISTRICT, OrgKind.CITY_DIRECT) or not district.path.startswith(city.path)
    ):
        raise ValidationError({"district": _("请选择本市的区或市直属单位。")})
    scope_path = district.path if district is not None else city.path
    VerificationRun.objects.filter(year=year, status=RunStatus.RUNNING, heartbeat_at__lt=timezone.now() - STALE_RUN).update(
        status=RunStatus.INTERRUPTED, finished_at=timezone.now()
    )
    total, chunks = plan_chunks(
        Teacher.objects.filter(status=TeacherStatus.ACTIVE, school__path__startswith=scope_path),
        scope_path,
        limit=settings.VERIFY_CHUNK_TEACHERS,
    )
    try:
        with transaction.atomic():
            run = VerificationRun.objects.create(
                year=year,
                district=district,
                started_by=actor,
                total=total,
                chunks=len(chunks),
                chunk_plan=chunks,
                provisional=provisional,
            )
    except IntegrityError:
        raise StateConflict(_("%(year)s年度的验证正在进行中，请等待完成。") % {"year": year})
    if inline:
        run_execute(run.pk)
    else:
        enqueue("verification.tasks.run_verification", run.pk, on_failure=lambda reason: run_fail(run_id=run.pk, reason=reason))
    run.refresh_from_db()
    return run


def run_fail(*, run_id: int, reason: str) -> None:
    """Mark a running run failed (its task could not be queued): the year may be verified again at once."""
    VerificationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=reason, finished_at=timezone.now()
    )


def run_execute(run_id: int, chunks: list[list[int]] | None = None) -> VerificationRun:
    """Verify every planned chunk in this process (the management command, eager mode), then finish."""
    run = VerificationRun.objects.get(pk=run_id)
    for index in range(len(run.chunk_plan)):
        run_chunk(run.pk, index)
    return run_finish(run.pk)


def run_chunk(run_id: int, index: int) -> int:
    """Verify one planned chunk and record it as done (idempotent: a re-delivered chunk rewrites the
    same results and records nothing new)."""
    run = VerificationRun.objects.get(pk=run_id)
    return verify_chunk(run.pk, run.chunk_plan[index], index=index, run=run)


def run_progress(run: VerificationRun) -> int:
    """Teachers done so far, counted from the database (safe with several workers and re-delivery)."""
    return VerificationResult.objects.filter(run_id=run.pk).count()


def run_finish(run_id: int) -> VerificationRun:
    """Close the run once every teacher has a result from it: drop results of teachers no longer in
    scope, record the counts. Called after each chunk; only the call that completes the run acts."""
    run = VerificationRun.objects.select_related("district").get(pk=run_id)
    if run.status != RunStatus.RUNNING or RunChunk.objects.filter(run_id=run.pk).count() < len(run.chunk_plan):
        return run
    scope = run.district.path if run.district is not None else deployment_city().path
    with transaction.atomic():
        claimed = VerificationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.DONE, finished_at=timezone.now()
        )
        if not claimed:
            run.refresh_from_db()
            return run
        # Teachers who retired or left since an earlier run no longer have a result for the year, except
        # one a complaint is about: the complaint's record stays, and with it the result it refers to.
        VerificationResult.objects.filter(year=run.year, school__path__startswith=scope).exclude(run_id=run.pk).exclude(
            complaints__isnull=False
        ).delete()
        counts = dict(
            VerificationResult.objects.filter(run_id=run.pk).values("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        # Teachers who left while the run went on were skipped by their chunk: the total is what was verified.
        VerificationRun.objects.filter(pk=run.pk).update(counts=counts, total=sum(counts.values()))
        statistics_refresh(year=run.year, scope_path=scope)
    # The run rewrote the year's results: fresh planner statistics, or the next list query plans for
    # the row counts of before the run (after a first run: "1 row", and a 1000× slower plan).
    analyze(VerificationResult, SchoolYearStats)
    run.refresh_from_db()
    return run


def statistics_refresh(*, year: int, scope_path: str | None = None) -> int:
    """Store each school's figures for `year` (in the subtree at `scope_path`, default all): verified,
    passed, failed, exempt, hours per category from the results, and the active teachers now. A
    handful of grouped queries, whatever the number of schools. Called when a run finishes and by
    the daily refresh job (teacher counts of the open year). Returns the rows written."""
    schools = Organisation.objects.filter(kind=OrgKind.SCHOOL)
    if scope_path:
        schools = schools.filter(path__startswith=scope_path)
    results = {
        r["school_id"]: r
        for r in VerificationResult.objects.filter(year=year, school__in=schools)
        .values("school_id")
        .annotate(**selectors.STAT_AGGREGATES)
        .order_by()
    }
    teachers = dict(
        Teacher.objects.filter(status=TeacherStatus.ACTIVE, school__in=schools)
        .values("school_id")
        .annotate(n=Count("pk"))
        .values_list("school_id", "n")
        .order_by()
    )
    now = timezone.now()
    rows = [
        SchoolYearStats(
            school_id=school_id,
            year=year,
            teachers=teachers.get(school_id, 0),
            computed_at=now,
            teachers_at=now,
            **{k: v or 0 for k, v in results.get(school_id, {}).items() if k != "school_id"},
        )
        for school_id in sorted(set(results) | set(teachers))
    ]
    with transaction.atomic():
        SchoolYearStats.objects.filter(year=year, school__in=schools).delete()
        SchoolYearStats.objects.bulk_create(rows)
    # The table was just rewritten: without fresh statistics the planner took a year's 15,000 rows for 55
    # and summed them by nested loop (30 ms instead of a hash join) on every statistics page.
    analyze(SchoolYearStats)
    statistics_rollup(year=year)
    return len(rows)


def statistics_rollup(*, year: int) -> int:
    """Store every area's figures for `year` (`AreaYearStats`): the sums of the stored school rows below
    it. Recomputes the whole year (one grouped query over the year's school rows, ≈15,000 at
    1,500,000 teachers), so that a district refresh also updates its city. Call after the school
    rows change and after a school moves to another district. Returns the rows written."""
    return _rollup(year, SchoolYearStats, AreaYearStats, Organisation)


def statistics_school_moved(*, school: Organisation) -> None:
    """A school moved to another district: its stored figures now count for the new district's (and city's)
    rollups, in every year it has figures for."""
    for year in SchoolYearStats.objects.filter(school=school).values_list("year", flat=True).order_by("year"):
        statistics_rollup(year=year)


def _rollup(year: int, school_stats: Any, area_stats: Any, organisations: Any) -> int:
    """`statistics_rollup` with the models given (the migration that fills the table passes its own)."""
    from django.db.models import Max, Sum

    sums = ("teachers", "verified", "passed", "failed", "exempt", "public", "professional", "elective", "total_hours")
    per_parent = list(
        school_stats.objects.filter(year=year, school__parent__isnull=False)
        .values("school__parent_id")
        .annotate(**{k: Sum(k) for k in sums}, computed_at=Max("computed_at"), teachers_at=Max("teachers_at"))
        .order_by()
    )
    paths = dict(organisations.objects.filter(pk__in=[r["school__parent_id"] for r in per_parent]).values_list("pk", "path"))
    areas: dict[int, dict[str, Any]] = {}
    for row in per_parent:
        for segment in paths[row["school__parent_id"]].strip("/").split("/"):
            area = areas.setdefault(int(segment), {k: 0 for k in sums})
            for k in sums:
                area[k] += row[k] or 0
            for k in ("computed_at", "teachers_at"):
                area[k] = max(filter(None, (area.get(k), row[k])), default=None)
    rows = [
        area_stats(organisation_id=pk, year=year, **{k: v for k, v in figures.items() if v is not None})
        for pk, figures in sorted(areas.items())
    ]
    with transaction.atomic():
        area_stats.objects.filter(year=year).delete()
        area_stats.objects.bulk_create(rows)
    analyze(area_stats)
    return len(rows)


def statistics_refresh_open_years(today: datetime.date | None = None) -> dict[int, int]:
    """The daily job: refresh this year's and last year's stored figures (teacher counts move with the roster)."""
    today = today or timezone.localdate()
    return {year: statistics_refresh(year=year) for year in (today.year - 1, today.year)}


def auto_verify_due(today: datetime.date | None = None) -> VerificationRun | None:
    """Celery beat, daily: once last year's district review deadline has passed, verify that year once."""
    _require_annual_regime()
    today = today or timezone.localdate()
    year = today.year - 1
    year_obj = Year.of(year)
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None or policy.is_finalised or today <= year_obj.district_review_deadline:
        return None
    deadline_passed_at = timezone.make_aware(
        datetime.datetime.combine(year_obj.district_review_deadline + datetime.timedelta(days=1), datetime.time())
    )
    if (
        VerificationRun.objects.filter(year=year, district__isnull=True, started_at__gte=deadline_passed_at)
        .exclude(status=RunStatus.FAILED)
        .exists()
    ):
        return None
    try:
        return run_start(role=None, actor=None, year=year)
    except StateConflict:
        return None


# --- exemptions --------------------------------------------------------------------------------------


def exemption_set(*, role: Role, actor: User, teacher: Teacher, year: int, reason: str) -> Exemption:
    if role is None or role.kind not in (RoleKind.CITY_ADMIN, RoleKind.DISTRICT_ADMIN):
        raise PermissionDenied(_("只有市、区管理员可以设置免验。"))
    from accounts.selectors import teachers_visible_to

    if not teachers_visible_to(role).filter(pk=teacher.pk).exists():
        raise NotFound
    _require_not_finalised(year)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写免验原因。")})
    exemption, _created = Exemption.objects.update_or_create(
        teacher=teacher, year=year, defaults={"reason": reason.strip(), "created_by": actor}
    )
    return exemption


def exemption_remove(*, role: Role, teacher: Teacher, year: int) -> None:
    if role is None or role.kind not in (RoleKind.CITY_ADMIN, RoleKind.DISTRICT_ADMIN):
        raise PermissionDenied(_("只有市、区管理员可以设置免验。"))
    from accounts.selectors import teachers_visible_to

    if not teachers_visible_to(role).filter(pk=teacher.pk).exists():
        raise NotFound
    _require_not_finalised(year)
    Exemption.objects.filter(teacher=teacher, year=year).delete()


# --- notice, complaints, confirmations, finalisation -------------------------------------------------------


def notice_publish(*, role: Role, actor: User, year: int) -> Notice:
    """A school publishes its results for 7 days."""
    if role is None or role.kind not in (RoleKind.SCHOOL_ADMIN, RoleKind.PRINCIPAL):
        raise PermissionDenied(_("只有学校管理员或校长可以发布公示。"))
    _require_not_finalised(year)
    school = role.organisation
    if not VerificationResult.objects.filter(year=year, school=school).exists():
        raise StateConflict(_("%(year)s年度还没有本校的验证结果，不能公示。") % {"year": year})
    if VerificationResult.objects.filter(year=year, school=school, run__provisional=True).exists():
        raise StateConflict(_("%(year)s年度的验证结果还是试算结果，复审截止后正式验证了才能公示。") % {"year": year})
    if Confirmation.objects.filter(organisation=school, year=year).exists():
        raise StateConflict(_("本校结果已确认上报，不能再公示。"))
    now = timezone.now()
    notice, created = Notice.objects.get_or_create(
        school=school,
        year=year,
        defaults={"published_by": actor, "published_at": now, "ends_at": now + datetime.timedelta(days=NOTICE_DAYS)},
    )
    if not created:
        raise StateConflict(
            _("本校%(year)s年度的结果已于 %(date)s 公示。")
            % {"year": year, "date": f"{timezone.localtime(notice.published_at):%Y-%m-%d}"}
        )
    return notice


def complaint_file(*, role: Role, actor: User, year: int, field: str, message: str) -> ResultComplaint:
    """A teacher complains about one figure of their published result, while the notice is open."""
    if role is None or role.kind != RoleKind.TEACHER:
        raise PermissionDenied(_("只有教师本人可以提出异议。"))
    result = selectors.results_visible_to(role).filter(year=year).first()  # never a provisional one
    if result is None:
        raise NotFound
    notice = Notice.objects.filter(school=result.school, year=year).first()
    if notice is None:
        raise StateConflict(_("学校尚未公示%(year)s年度的结果。") % {"year": year})
    if not notice.is_open:
        raise StateConflict(
            _("公示期已于 %(date)s 结束，不能再提出异议。") % {"date": f"{timezone.localtime(notice.ends_at):%Y-%m-%d %H:%M}"}
        )
    from .models import ComplaintField

    if field not in ComplaintField.values:
        raise ValidationError({"field": _("请选择对哪一项有异议。")})
    if not (message or "").strip():
        raise ValidationError({"message": _("请说明异议的理由。")})
    return ResultComplaint.objects.create(result=result, notice=notice, field=field, message=message.strip())


def complaint_resolve(*, role: Role, actor: User, complaint: ResultComplaint, upheld: bool, resolution: str) -> ResultComplaint:
    """The district records how a complaint was resolved (a correction itself goes through the hours services)."""
    if role is None or role.kind != RoleKind.DISTRICT_ADMIN:
        raise PermissionDenied(_("由区管理员处理异议。"))
    if not selectors.complaints_visible_to(role).filter(pk=complaint.pk).exists():
        raise NotFound
    if not (resolution or "").strip():
        raise ValidationError({"resolution": _("请填写处理结果。")})
    with transaction.atomic():
        c = ResultComplaint.objects.select_for_update().select_related("result__teacher").get(pk=complaint.pk)
        if c.state != ComplaintState.OPEN:
            raise StateConflict(_("该异议已处理。"))
        c.state = ComplaintState.UPHELD if upheld else ComplaintState.DISMISSED
        c.resolution = resolution.strip()
        c.resolved_by = actor
        c.resolved_at = timezone.now()
        c.save()
        if c.result.teacher.user_id:
            with source_language():
                message = _("您对%(year)s年度验证结果的异议已处理：%(r)s") % {"year": c.result.year, "r": c.resolution}
            Notification.objects.create(
                user_id=c.result.teacher.user_id,
                message=message[:500],
                link=f"/verification/my/?year={c.result.year}",
            )
    return c


# Who may correct the hours of a complaint's teacher from the complaint: the district that handles it (the
# city-direct unit's admin for city-direct schools) and the city, which may correct any entry anyway.
COMPLAINT_CORRECTORS = (RoleKind.DISTRICT_ADMIN, RoleKind.CITY_ADMIN)
MAX_CORRECTION_HOURS = Decimal("999.9")


def complaint_correctable(*, role: Role, complaint: ResultComplaint) -> None:
    """Raise why `role` may not correct hours through `complaint` now (PermissionDenied: not through this
    complaint or not in this year; StateConflict: the school's results are already confirmed); the city
    admin keeps its general power of correction. Call with a complaint in the role's scope."""
    year = complaint.result.year
    if complaint.state == ComplaintState.DISMISSED:
        raise PermissionDenied(_("该异议已认定不属实，不能据此更正学时。"))
    if role.kind == RoleKind.CITY_ADMIN:
        return
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is not None and policy.is_finalised:
        raise PermissionDenied(_("%(year)s年度已定稿，只有市管理员可以更正学时。") % {"year": year})
    if Confirmation.objects.filter(organisation_id=complaint.result.school_id, year=year).exists():
        raise StateConflict(_("本校%(year)s年度结果已由校长确认上报，不能再据此更正。") % {"year": year})


def complaint_correct(
    *,
    role: Role,
    actor: User,
    complaint: ResultComplaint,
    reason: str,
    revokes: int | None = None,
    category: str | None = None,
    hours: Decimal | None = None,
    title: str = "",
) -> ComplaintCorrection:
    """Correct the complaint's teacher's hours of the complaint's year while resolving it: revoke one of
    the teacher's entries of that year (`revokes`, an entry id) or add hours that were missed (`category`,
    `hours`, `title`), always with a reason. The entry is written by `hours.ledger` and linked to the
    complaint; the teacher is told.

    Allowed while the complaint is being handled or was upheld, before the principal confirms the school's
    results (SPEC §5: complaints are resolved, then the principal confirms what the notice showed) and
    before the city finalises the year. The year's data lock (after the review deadline, which is when
    the notice and its complaints happen) does not stop it: this is the correction that lock leaves room for.
    After it, the year must be verified again before the principal can confirm (`school_confirm`)."""
    if role is None or role.kind not in COMPLAINT_CORRECTORS:
        raise PermissionDenied(_("只有处理异议的区管理员或市管理员可以更正学时。"))
    if not selectors.complaints_visible_to(role).filter(pk=complaint.pk).exists():
        raise NotFound
    errors: dict[str, str] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("更正必须填写原因。")
    if revokes is None:
        if category not in Category.values:
            errors["category"] = _("请选择类别。")
        if hours is None or not (Decimal("0") < hours <= MAX_CORRECTION_HOURS):
            errors["hours"] = _("补登学时须大于0且不超过%(max)s。") % {"max": MAX_CORRECTION_HOURS}
        elif hours != hours.quantize(Decimal("0.1")):
            errors["hours"] = _("学时最多保留一位小数。")
    elif category or hours is not None:
        errors["revokes"] = _("撤销记录和补登学时请分别提交。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        c = ResultComplaint.objects.select_for_update().select_related("result__teacher", "result__school").get(pk=complaint.pk)
        teacher, year = c.result.teacher, c.result.year
        complaint_correctable(role=role, complaint=c)
        if revokes is not None:
            entry = LedgerEntry.objects.filter(pk=revokes, teacher=teacher, year=year).first()
            if entry is None:
                raise ValidationError({"revokes": _("该记录不是本异议所涉教师本年度的学时记录。")})
            written = ledger.entry_revoke(entry=entry, actor=actor, reason=reason, correction=True)
        else:
            assert category is not None and hours is not None
            with source_language():  # a default title is stored in the platform's language, shown translated
                default_title = str(_("学时更正"))
            written = ledger.entry_create(
                teacher=teacher,
                year=year,
                category=category,
                hours=hours.quantize(Decimal("0.1")),
                source=Source.CORRECTION,
                title=(title or "").strip()[:200] or default_title,
                actor=actor,
                reason=reason,
                correction=True,
            )
        link = ComplaintCorrection.objects.create(complaint=c, entry=written)
        if teacher.user_id:
            with source_language():
                what = (
                    _("撤销 %(hours)s 学时（%(title)s）") % {"hours": -written.hours, "title": written.title}
                    if written.revokes_id
                    else _("补登 %(hours)s 学时（%(title)s）") % {"hours": written.hours, "title": written.title}
                )
                message = _("您%(year)s年度的学时已按您的异议更正：%(what)s。") % {"year": year, "what": what}
            Notification.objects.create(
                user_id=teacher.user_id,
                message=message[:500],
                link=f"/hours/?year={year}",
            )
    return link


def school_confirm(*, role: Role, actor: User, year: int) -> Confirmation:
    """The principal confirms the school's results after the notice closed with no open complaint."""
    if role is None or role.kind != RoleKind.PRINCIPAL:
        raise PermissionDenied(_("由校长确认上报本校结果。"))
    _require_not_finalised(year)
    school = role.organisation
    notice = Notice.objects.filter(school=school, year=year).first()
    if notice is None:
        raise StateConflict(_("请先公示本校结果。"))
    if notice.is_open:
        raise StateConflict(
            _("公示期至 %(date)s 结束，结束后才能确认。") % {"date": f"{timezone.localtime(notice.ends_at):%Y-%m-%d %H:%M}"}
        )
    if ResultComplaint.objects.filter(notice=notice, state=ComplaintState.OPEN).exists():
        raise StateConflict(_("还有未处理的异议，区里处理后才能确认。"))
    if selectors.complaints_needing_rerun(school=school, year=year).exists():
        raise StateConflict(_("异议处理中更正了学时，市里重新验证该年度后才能确认。"))
    try:
        with transaction.atomic():
            return Confirmation.objects.create(organisation=school, year=year, confirmed_by=actor)
    except IntegrityError:
        raise StateConflict(_("本校结果已确认。"))


def district_confirm(*, role: Role, actor: User, year: int) -> Confirmation:
    """The district confirms once every school with results has been confirmed by its principal."""
    if role is None or role.kind != RoleKind.DISTRICT_ADMIN:
        raise PermissionDenied(_("由区管理员确认本区结果。"))
    _require_not_finalised(year)
    district = role.organisation
    pending = selectors.schools_pending_confirmation(district, year)
    if pending:
        raise StateConflict(_("以下学校尚未确认：%(names)s") % {"names": "、".join(s.name for s in pending[:20])})
    try:
        with transaction.atomic():
            return Confirmation.objects.create(organisation=district, year=year, confirmed_by=actor)
    except IntegrityError:
        raise StateConflict(_("本区结果已确认。"))


def year_finalise(*, role: Role, actor: User, year: int) -> YearPolicy:
    """The city finalises the year: every district confirmed; carry-over written into next year's
    hours bank; the year locked against new entries and runs."""
    _require_city(role)
    policy = _require_not_finalised(year)
    pending = selectors.districts_pending_confirmation(role.organisation, year)
    if pending:
        raise StateConflict(_("以下区尚未确认：%(names)s") % {"names": "、".join(d.name for d in pending)})
    if VerificationRun.objects.filter(year=year, status=RunStatus.RUNNING).exists():
        raise StateConflict(_("验证正在进行中。"))
    with transaction.atomic():
        policy = YearPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.is_finalised:
            raise StateConflict(_("%(year)s年度已定稿。") % {"year": year})
        carry = list(VerificationResult.objects.filter(year=year, carry_out__gt=0).values_list("teacher_id", "carry_out"))
        # Written once: a carry-over entry already there (its reference names the year and teacher) is left alone.
        ledger.entries_create_many(
            [
                dict(
                    teacher_id=teacher_id,
                    year=year + 1,
                    category=Category.PROFESSIONAL,
                    hours=hours,
                    source=Source.CARRY_OVER,
                    title=_("%(year)s年度结转的专业科目学时") % {"year": year},
                    source_ref=f"carry:{year}:{teacher_id}",
                    actor=actor,
                )
                for teacher_id, hours in carry
            ],
            skip_existing=True,
        )
        policy.finalised_at = timezone.now()
        policy.finalised_by = actor
        policy.save(update_fields=["finalised_at", "finalised_by"])
        Year.objects.filter(year=year, locked_at__isnull=True).update(locked_at=timezone.now())
        Year.get_or_create_for(year)
        Year.objects.filter(year=year, locked_at__isnull=True).update(locked_at=timezone.now())
        PolicyRevision.objects.create(
            policy=policy, actor=actor, changes={"finalised": True, "carried_out": str(sum((h for _t, h in carry), Decimal("0")))}
        )
    return policy
