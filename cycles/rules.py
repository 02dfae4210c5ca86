"""The five-year cycle regime (SPEC §7): a teacher's current cycle, its progress and pace, the
new-teacher rule, the degree exemption, the registration certificate and cycle statistics.

It shares the hours ledger, the review workflow and the registration machinery with the annual
regime; only the rule applied to the ledger differs: a cycle sums the entries dated inside it
(360 hours, of which at least 80 school-based) instead of verifying calendar years.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.idnumber import mask_name
from accounts.models import Organisation, Role, RoleKind, Teacher, TeacherStatus
from cpd.errors import NotFound, StateConflict
from hours import ledger
from hours.models import ActivityType, Declaration, DeclarationState, LedgerEntry

from .models import CycleCertificate, CyclePolicy, CycleSchoolCount, CycleState, TeacherCycle

ZERO = Decimal("0")


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29 → Feb 28
        return day.replace(year=day.year + years, day=28)


def current_cycle(teacher: Teacher, policy: CyclePolicy | None = None, today: datetime.date | None = None) -> TeacherCycle:
    """The teacher's cycle containing `today`, as stored or, when none is stored yet, as `cycle_open`
    would open it (unsaved). A read never writes: pages show the projection, services open it.

    A cycle starts on the date of the last certificate, or on the first employment; a cycle that ended
    without a certificate is followed by the next five years."""
    today = today or timezone.localdate()
    policy = policy or CyclePolicy.current()
    cycle = TeacherCycle.objects.filter(teacher=teacher, state=CycleState.ACTIVE).first()
    if cycle is not None and cycle.end_date > today:
        return cycle
    if cycle is not None:
        start = cycle.end_date
    else:
        last = CycleCertificate.objects.filter(teacher=teacher).order_by("-issued_on").first()
        start = last.issued_on if last else (teacher.first_employment_date or teacher.created_at.date())
    start = _roll_forward(start, policy.years, today)
    return TeacherCycle(teacher=teacher, start_date=start, end_date=add_years(start, policy.years))


def cycle_open(*, teacher: Teacher, today: datetime.date | None = None) -> TeacherCycle:
    """Store the teacher's current cycle: an ended active cycle is marked lapsed and the next one opened.

    Idempotent; safe against a concurrent opener (the one-active-cycle constraint decides)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        cycle = current_cycle(teacher, today=today)
        if cycle.pk is not None:
            return cycle
        TeacherCycle.objects.filter(teacher=teacher, state=CycleState.ACTIVE, end_date__lte=today).update(state=CycleState.LAPSED)
        try:
            with transaction.atomic():
                cycle.save()
                return cycle
        except IntegrityError:
            return TeacherCycle.objects.get(teacher=teacher, state=CycleState.ACTIVE)


def cycles_open_due(*, today: datetime.date | None = None) -> int:
    """Daily (beat task `cycles.tasks.open_due_cycles`): open the cycle of every active teacher who has
    no current stored cycle (new teachers, cycles that ended). Returns how many were opened."""
    today = today or timezone.localdate()
    current = TeacherCycle.objects.filter(state=CycleState.ACTIVE, end_date__gt=today).values("teacher_id")
    opened = 0
    for teacher in Teacher.objects.filter(status=TeacherStatus.ACTIVE).exclude(pk__in=current).iterator(chunk_size=500):
        cycle_open(teacher=teacher, today=today)
        opened += 1
    return opened


def _roll_forward(start: datetime.date, years: int, today: datetime.date) -> datetime.date:
    """The start of the cycle containing `today`: a cycle that ended without a certificate is followed by the next one."""
    while add_years(start, years) <= today:
        start = add_years(start, years)
    return start


def _expected_by(policy: CyclePolicy, start: datetime.date, end: datetime.date, today: datetime.date) -> tuple[int, Decimal]:
    """Days elapsed in the cycle and the hours the pace (about 72 a year) asks for by today."""
    elapsed_days = max(0, (min(today, end) - start).days)
    return elapsed_days, min(
        policy.total_hours, (policy.pace_per_year * Decimal(elapsed_days) / Decimal("365.25")).quantize(Decimal("0.1"))
    )


@dataclass
class CycleProgress:
    cycle: TeacherCycle
    policy: CyclePolicy
    total: Decimal = ZERO
    school_based: Decimal = ZERO
    new_teacher_hours: Decimal = ZERO
    is_new_teacher: bool = False
    new_teacher_deadline: datetime.date | None = None
    degree: Declaration | None = None
    expected_by_now: Decimal = ZERO
    behind_pace: bool = False
    complete: bool = False
    missing_total: Decimal = ZERO
    missing_school_based: Decimal = ZERO
    years_elapsed: Decimal = ZERO
    entries: list[LedgerEntry] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return min(100, int(self.total * 100 / self.policy.total_hours)) if self.policy.total_hours else 100

    @property
    def school_based_percent(self) -> int:
        return min(100, int(self.school_based * 100 / self.policy.min_school_based)) if self.policy.min_school_based else 100


def _opened_by(teacher_id: int, start: datetime.date) -> CycleCertificate | None:
    """The certificate whose date started this cycle, if any."""
    return CycleCertificate.objects.filter(teacher_id=teacher_id, issued_on=start).order_by("-created_at").first()


def cycle_bounds(cycle: TeacherCycle) -> ledger.CycleBounds:
    """The cycle as the plain values `hours.ledger` counts by. Hours recorded before the certificate that
    opened the cycle were counted for it (training that ended on its date included): this cycle starts afresh."""
    opened_by = _opened_by(cycle.teacher_id, cycle.start_date)
    opened_at = opened_by.created_at if opened_by is not None and opened_by.cycle_id != cycle.pk else None
    return ledger.CycleBounds(start=cycle.start_date, end=cycle.end_date, opened_at=opened_at)


def progress(teacher: Teacher, today: datetime.date | None = None) -> CycleProgress:
    """Hours, school-based hours, pace and completion of the teacher's current cycle (a few queries)."""
    today = today or timezone.localdate()
    policy = CyclePolicy.current()
    cycle = current_cycle(teacher, policy, today)
    figures = ledger.cycle_figures(bounds={teacher.pk: cycle_bounds(cycle)})[teacher.pk]
    p = CycleProgress(
        cycle=cycle,
        policy=policy,
        total=figures.total,
        school_based=figures.school_based,
        new_teacher_hours=figures.new_teacher,
    )
    p.degree = (
        Declaration.objects.filter(
            teacher=teacher,
            activity_type=ActivityType.DEGREE,
            state=DeclarationState.APPROVED,
            end_date__gte=cycle.start_date,
            end_date__lt=cycle.end_date,
        )
        .order_by("end_date")
        .first()
    )
    elapsed_days, p.expected_by_now = _expected_by(policy, cycle.start_date, cycle.end_date, today)
    p.years_elapsed = (Decimal(elapsed_days) / Decimal("365.25")).quantize(Decimal("0.1"))
    p.missing_total = max(ZERO, policy.total_hours - p.total)
    p.missing_school_based = max(ZERO, policy.min_school_based - p.school_based)
    p.complete = p.degree is not None or (p.missing_total == ZERO and p.missing_school_based == ZERO)
    p.behind_pace = not p.complete and p.total < p.expected_by_now
    # A new teacher: first employed inside this cycle; the first year's 120 hours of new-teacher training
    # are shown apart from the cycle's 360, while they apply: not once the cycle is complete, and after the
    # first year only while they are still missing.
    first = teacher.first_employment_date
    if first and cycle.start_date <= first < cycle.end_date and not p.complete:
        deadline = add_years(first, 1)
        if today < deadline or p.new_teacher_hours < policy.new_teacher_hours:
            p.is_new_teacher = True
            p.new_teacher_deadline = deadline
    return p


def hours_page_summary(teacher: Teacher) -> dict[str, Any] | None:
    """What 我的学时 shows in the cycle regime instead of annual figures (registered in cycles/apps.py);
    None in the annual regime."""
    if settings.CPD_REGIME != "cycle":
        return None
    return {"template": "verification/_cycle_summary.html", "p": progress(teacher)}


def certificate_issue(*, role: Role, actor: Any, teacher: Teacher | None = None) -> CycleCertificate:
    """Issue the registration certificate of the teacher's completed cycle, once; the next cycle starts on its date."""
    if role is None or role.kind != RoleKind.TEACHER:
        raise NotFound
    teacher = teacher or Teacher.objects.filter(user_id=role.user_id).first()
    if teacher is None or teacher.user_id != role.user_id:
        raise NotFound
    with transaction.atomic():
        Teacher.objects.select_for_update().get(pk=teacher.pk)
        today = timezone.localdate()
        cycle_open(teacher=teacher, today=today)
        p = progress(teacher, today)
        # Asked again (a second click): the certificate issued today, which opened the current cycle.
        existing = (
            CycleCertificate.objects.filter(Q(cycle=p.cycle) | Q(teacher=teacher, issued_on=today))
            .order_by("-created_at")
            .first()
        )
        if existing is not None:
            return existing
        if not p.complete:
            raise StateConflict(
                _("本周期尚未完成：还差 %(t)s 学时，其中校本研修还差 %(s)s 学时。")
                % {"t": p.missing_total, "s": p.missing_school_based}
            )
        cert = CycleCertificate.objects.create(
            cycle=p.cycle,
            teacher=teacher,
            code=secrets.token_hex(8).upper(),
            issued_on=today,
            valid_until=add_years(today, p.policy.certificate_valid_years),
            total_hours=p.total,
            school_based_hours=p.school_based,
            exempt_by_degree=p.degree is not None and (p.missing_total > 0 or p.missing_school_based > 0),
        )
        TeacherCycle.objects.filter(pk=p.cycle.pk).update(state=CycleState.COMPLETED)
        TeacherCycle.objects.create(teacher=teacher, start_date=today, end_date=add_years(today, p.policy.years))
    return cert


def certificate_check(code: str) -> dict[str, Any] | None:
    """What the public verification page shows for a code: masked name, dates, validity. Nothing else."""
    code = (code or "").strip().upper()
    if not code or len(code) > 32:
        return None
    cert = CycleCertificate.objects.select_related("teacher", "cycle").filter(code=code).first()
    if cert is None:
        return None
    return {
        "name": mask_name(cert.teacher.name),
        "issued_on": cert.issued_on,
        "valid_until": cert.valid_until,
        "cycle_start": cert.cycle.start_date,
        "cycle_end": cert.cycle.end_date,
        "valid": cert.valid_until >= timezone.localdate(),
    }


def certificate_pdf(cert: CycleCertificate) -> bytes:
    """The certificate as a Chinese PDF embedding a CJK font subset (cpd/pdf_fonts.py), issuer stated."""
    import io

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    from accounts.selectors import issuing_authority
    from cpd.pdf_fonts import register_font

    font = register_font()
    buffer = io.BytesIO()
    page = landscape(A4)
    c = canvas.Canvas(buffer, pagesize=page, initialFontName=font)
    c.setTitle("继续教育登记证书")
    width, height = page
    c.setLineWidth(3)
    c.rect(30, 30, width - 60, height - 60)
    c.setFont(font, 32)
    c.drawCentredString(width / 2, height - 110, "中小学教师继续教育登记证书")
    c.setFont(font, 16)
    teacher = cert.teacher
    lines = [
        f"姓名：{teacher.name}",
        f"单位：{teacher.school.name}",
        f"继续教育证号：{teacher.cpd_number}",
        f"继续教育周期：{cert.cycle.start_date:%Y年%m月%d日} 至 {cert.cycle.end_date:%Y年%m月%d日}",
        f"周期内完成学时：{cert.total_hours} 学时，其中校本研修 {cert.school_based_hours} 学时"
        + ("（学历教育已认定，免修本周期学时）" if cert.exempt_by_degree else ""),
        f"发证日期：{cert.issued_on:%Y年%m月%d日}    有效期至：{cert.valid_until:%Y年%m月%d日}",
        f"验证码：{cert.code}（可在平台“证书查验”页面核验）",
    ]
    y = height - 180
    for line in lines:
        c.drawString(90, y, line)
        y -= 34
    c.setFont(font, 14)
    c.drawRightString(width - 90, 80, f"发证单位：{issuing_authority(teacher.school)}（教师继续教育管理平台）")
    c.showPage()
    c.save()
    return buffer.getvalue()


STAT_FIELDS = ("teachers", "with_cycle", "complete", "behind", "certified_this_year")
REFRESH_SCHOOLS_PER_BATCH = 100  # ≈ 10,000 teachers' cycles and ledger rows in memory at a time


def cycle_statistics(role: Role | None, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """Per school in scope: teachers, cycles complete (degree exemptions included), behind pace, certified
    this year. A school's own are worked out live (`school_cycle_rows`); a district's and the city's sum the
    per-school counts `cycle_counts_refresh` stores hourly once there are any (each row then carries its
    `computed_at`), else they are worked out live too."""
    from accounts.selectors import AREA_ROLES, schools_visible_to

    schools = list(schools_visible_to(role).order_by("code"))
    if role is not None and role.kind in AREA_ROLES:
        stored = {
            row[0]: row[1:]
            for row in CycleSchoolCount.objects.filter(school__in=schools_visible_to(role).order_by().values("pk")).values_list(
                "school_id", *STAT_FIELDS, "computed_at"
            )
        }
        if stored:
            zeros = (0,) * len(STAT_FIELDS) + (None,)
            rows = []
            for s in schools:
                counts = stored.get(s.pk, zeros)
                row: dict[str, Any] = {"unit": s, **dict(zip(STAT_FIELDS, counts, strict=False))}
                row["computed_at"] = counts[-1]
                rows.append(row)
            return rows
    return school_cycle_rows(schools, today)


def cycle_statistics_computed_at(rows: list[dict[str, Any]]) -> datetime.datetime | None:
    """When the stored counts the rows were summed from were computed (the oldest); None when worked out live."""
    times = [r["computed_at"] for r in rows if r.get("computed_at")]
    return min(times) if times else None


def cycle_counts_refresh(*, today: datetime.date | None = None) -> int:
    """Store every school's cycle statistics (`CycleSchoolCount`, replaced whole), a batch of schools at a
    time through `school_cycle_rows`. Returns the number of schools stored."""
    from accounts.models import OrgKind
    from cpd.db import analyze

    now = timezone.now()
    school_ids = list(Organisation.objects.filter(kind=OrgKind.SCHOOL).order_by("pk").values_list("pk", flat=True))
    counts: list[CycleSchoolCount] = []
    for i in range(0, len(school_ids), REFRESH_SCHOOLS_PER_BATCH):
        schools = list(Organisation.objects.filter(pk__in=school_ids[i : i + REFRESH_SCHOOLS_PER_BATCH]))
        counts += [
            CycleSchoolCount(school=r["unit"], computed_at=now, **{k: r[k] for k in STAT_FIELDS})
            for r in school_cycle_rows(schools, today)
        ]
    with transaction.atomic():
        CycleSchoolCount.objects.all().delete()
        CycleSchoolCount.objects.bulk_create(counts, batch_size=2000)
    analyze(CycleSchoolCount)
    return len(counts)


def school_cycle_rows(schools: list[Organisation], today: datetime.date | None = None) -> list[dict[str, Any]]:
    """The statistics of these schools, worked out from a handful of queries over their teachers, cycles,
    certificates, degrees and the ledger (no query per teacher). Each teacher's current cycle is worked out
    as `current_cycle` would open it, without writing it: most teachers never open their cycle page."""
    today = today or timezone.localdate()
    policy = CyclePolicy.current()
    scope = Teacher.objects.filter(school__in=schools, status=TeacherStatus.ACTIVE)
    teachers = list(scope.values_list("pk", "school_id", "first_employment_date", "created_at"))
    active = {c.teacher_id: c for c in TeacherCycle.objects.filter(teacher__in=scope, state=CycleState.ACTIVE)}
    certificates: dict[int, list[tuple[datetime.date, datetime.datetime]]] = {}
    for teacher_id, issued_on, created_at in (
        CycleCertificate.objects.filter(teacher__in=scope)
        .order_by("issued_on", "created_at")
        .values_list("teacher_id", "issued_on", "created_at")
    ):
        certificates.setdefault(teacher_id, []).append((issued_on, created_at))
    # teacher → (cycle start, cycle end, when the certificate that opened the cycle was issued)
    bounds: dict[int, tuple[datetime.date, datetime.date, datetime.datetime | None]] = {}
    for teacher_id, _school_id, first_employment, created_at in teachers:
        cycle = active.get(teacher_id)
        certs = certificates.get(teacher_id, [])
        if cycle is not None:
            start = cycle.start_date if cycle.end_date > today else _roll_forward(cycle.end_date, policy.years, today)
        else:
            start = _roll_forward(certs[-1][0] if certs else (first_employment or created_at.date()), policy.years, today)
        opened_by = [created for issued_on, created in certs if issued_on == start]
        bounds[teacher_id] = (start, add_years(start, policy.years), opened_by[-1] if opened_by else None)
    figures = ledger.cycle_figures(
        bounds={tid: ledger.CycleBounds(start, end, opened_at) for tid, (start, end, opened_at) in bounds.items()},
        teacher_ids=scope.values("pk"),
    )
    degrees: dict[int, list[datetime.date]] = {}
    for teacher_id, end_date in Declaration.objects.filter(
        teacher__in=scope, activity_type=ActivityType.DEGREE, state=DeclarationState.APPROVED
    ).values_list("teacher_id", "end_date"):
        degrees.setdefault(teacher_id, []).append(end_date)
    rows: dict[int, dict[str, Any]] = {
        s.pk: {"unit": s, "teachers": 0, "with_cycle": 0, "complete": 0, "behind": 0, "certified_this_year": 0} for s in schools
    }
    for teacher_id, school_id, _first, _created in teachers:
        row = rows[school_id]
        row["teachers"] += 1
        row["with_cycle"] += 1
        row["certified_this_year"] += any(issued_on.year == today.year for issued_on, _c in certificates.get(teacher_id, []))
        start, end, _opened = bounds[teacher_id]
        total, school_based_total = figures[teacher_id].total, figures[teacher_id].school_based
        exempt = any(start <= d < end for d in degrees.get(teacher_id, []))
        if exempt or (total >= policy.total_hours and school_based_total >= policy.min_school_based):
            row["complete"] += 1
        elif total < _expected_by(policy, start, end, today)[1]:
            row["behind"] += 1
    return list(rows.values())
