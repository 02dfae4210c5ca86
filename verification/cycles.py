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

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, RoleKind, Teacher, TeacherStatus
from cpd.errors import StateConflict
from hours.models import ActivityType, Declaration, DeclarationState, LedgerEntry, Source

from .models import CycleCertificate, CyclePolicy, CycleState, TeacherCycle

ZERO = Decimal("0")


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # Feb 29 → Feb 28
        return day.replace(year=day.year + years, day=28)


def current_cycle(teacher: Teacher, policy: CyclePolicy | None = None, today: datetime.date | None = None) -> TeacherCycle:
    """The teacher's active cycle. A cycle starts on the date of the last certificate, or on the first
    employment; a cycle that ended without a certificate is followed by the next five years."""
    today = today or timezone.localdate()
    policy = policy or CyclePolicy.current()
    cycle = TeacherCycle.objects.filter(teacher=teacher, state=CycleState.ACTIVE).first()
    if cycle is not None and cycle.end_date > today:
        return cycle
    if cycle is not None:
        TeacherCycle.objects.filter(pk=cycle.pk).update(state=CycleState.LAPSED)
        start = cycle.end_date
    else:
        last = CycleCertificate.objects.filter(teacher=teacher).order_by("-issued_on").first()
        start = last.issued_on if last else (teacher.first_employment_date or teacher.created_at.date())
    while add_years(start, policy.years) <= today:
        start = add_years(start, policy.years)
    try:
        with transaction.atomic():
            return TeacherCycle.objects.create(teacher=teacher, start_date=start, end_date=add_years(start, policy.years))
    except IntegrityError:
        return TeacherCycle.objects.get(teacher=teacher, state=CycleState.ACTIVE)


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
    entries: list = field(default_factory=list)

    @property
    def percent(self) -> int:
        return min(100, int(self.total * 100 / self.policy.total_hours)) if self.policy.total_hours else 100

    @property
    def school_based_percent(self) -> int:
        return min(100, int(self.school_based * 100 / self.policy.min_school_based)) if self.policy.min_school_based else 100


def _in_cycle(cycle: TeacherCycle) -> Q:
    """Entries dated inside the cycle (training end date, or the record date when the entry has none)."""
    return (Q(end_date__isnull=False) & Q(end_date__gte=cycle.start_date) & Q(end_date__lt=cycle.end_date)) | (
        Q(end_date__isnull=True) & Q(created_at__date__gte=cycle.start_date) & Q(created_at__date__lt=cycle.end_date)
    )


def counted_cycle_entries(cycle: TeacherCycle):
    return LedgerEntry.objects.filter(teacher_id=cycle.teacher_id, revokes__isnull=True, revoked_by__isnull=True).exclude(source=Source.CARRY_OVER).filter(_in_cycle(cycle))


def progress(teacher: Teacher, today: datetime.date | None = None) -> CycleProgress:
    """Hours, school-based hours, pace and completion of the teacher's current cycle (a few queries)."""
    today = today or timezone.localdate()
    policy = CyclePolicy.current()
    cycle = current_cycle(teacher, policy, today)
    sums = counted_cycle_entries(cycle).aggregate(
        total=Sum("hours"), school=Sum("hours", filter=Q(school_based=True)), new=Sum("hours", filter=Q(new_teacher=True))
    )
    p = CycleProgress(cycle=cycle, policy=policy, total=sums["total"] or ZERO, school_based=sums["school"] or ZERO, new_teacher_hours=sums["new"] or ZERO)
    # A new teacher: in the first cycle since the first employment; the first year's 120 hours of
    # new-teacher training are shown apart from the cycle's 360.
    if teacher.first_employment_date and cycle.start_date == teacher.first_employment_date:
        p.is_new_teacher = True
        p.new_teacher_deadline = add_years(teacher.first_employment_date, 1)
    p.degree = (
        Declaration.objects.filter(
            teacher=teacher, activity_type=ActivityType.DEGREE, state=DeclarationState.APPROVED, end_date__gte=cycle.start_date, end_date__lt=cycle.end_date
        )
        .order_by("end_date")
        .first()
    )
    elapsed_days = max(0, (min(today, cycle.end_date) - cycle.start_date).days)
    p.years_elapsed = (Decimal(elapsed_days) / Decimal("365.25")).quantize(Decimal("0.1"))
    p.expected_by_now = min(policy.total_hours, (policy.pace_per_year * Decimal(elapsed_days) / Decimal("365.25")).quantize(Decimal("0.1")))
    p.missing_total = max(ZERO, policy.total_hours - p.total)
    p.missing_school_based = max(ZERO, policy.min_school_based - p.school_based)
    p.complete = p.degree is not None or (p.missing_total == ZERO and p.missing_school_based == ZERO)
    p.behind_pace = not p.complete and p.total < p.expected_by_now
    return p


def certificate_issue(*, role: Role, actor, teacher: Teacher | None = None) -> CycleCertificate:
    """Issue the registration certificate of the teacher's completed cycle, once; the next cycle starts on its date."""
    if role is None or role.kind != RoleKind.TEACHER:
        raise Http404
    teacher = teacher or Teacher.objects.filter(user_id=role.user_id).first()
    if teacher is None or teacher.user_id != role.user_id:
        raise Http404
    with transaction.atomic():
        Teacher.objects.select_for_update().get(pk=teacher.pk)
        p = progress(teacher)
        existing = CycleCertificate.objects.filter(cycle=p.cycle).first()
        if existing is not None:
            return existing
        if not p.complete:
            raise StateConflict(
                _("本周期尚未完成：还差 %(t)s 学时，其中校本研修还差 %(s)s 学时。") % {"t": p.missing_total, "s": p.missing_school_based}
            )
        today = timezone.localdate()
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


def mask_name(name: str) -> str:
    """陈晓明 → 陈*明; 王芳 → 王*: enough to recognise, not to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def certificate_check(code: str) -> dict | None:
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
    """The certificate as a Chinese PDF, with reportlab's built-in CID font STSong-Light (no font file needed)."""
    import io

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    page = landscape(A4)
    c = canvas.Canvas(buffer, pagesize=page)
    c.setTitle("继续教育登记证书")
    width, height = page
    c.setLineWidth(3)
    c.rect(30, 30, width - 60, height - 60)
    c.setFont("STSong-Light", 32)
    c.drawCentredString(width / 2, height - 110, "中小学教师继续教育登记证书")
    c.setFont("STSong-Light", 16)
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
    c.setFont("STSong-Light", 14)
    c.drawRightString(width - 90, 80, "教师继续教育管理平台")
    c.showPage()
    c.save()
    return buffer.getvalue()


def cycle_statistics(role: Role | None, today: datetime.date | None = None) -> list[dict]:
    """Per school in scope: teachers, cycles complete, behind pace. Computed from a handful of aggregate
    queries over active cycles and the ledger (no query per teacher)."""
    from accounts.selectors import schools_visible_to

    today = today or timezone.localdate()
    policy = CyclePolicy.current()
    schools = list(schools_visible_to(role).order_by("code"))
    teachers = list(Teacher.objects.filter(school__in=schools, status=TeacherStatus.ACTIVE).values_list("pk", "school_id"))
    cycles = {c.teacher_id: c for c in TeacherCycle.objects.filter(teacher_id__in=[t for t, _s in teachers], state=CycleState.ACTIVE)}
    entries = (
        LedgerEntry.objects.filter(teacher_id__in=list(cycles), revokes__isnull=True, revoked_by__isnull=True)
        .exclude(source=Source.CARRY_OVER)
        .values_list("teacher_id", "hours", "school_based", "end_date", "created_at")
    )
    totals: dict[int, list[Decimal]] = {}
    for teacher_id, hours, school_based, end_date, created_at in entries.iterator(chunk_size=5000):
        cycle = cycles[teacher_id]
        day = end_date or created_at.date()
        if cycle.start_date <= day < cycle.end_date:
            acc = totals.setdefault(teacher_id, [ZERO, ZERO])
            acc[0] += hours
            if school_based:
                acc[1] += hours
    certified = set(CycleCertificate.objects.filter(teacher_id__in=[t for t, _s in teachers], issued_on__year=today.year).values_list("teacher_id", flat=True))
    rows = {s.pk: {"unit": s, "teachers": 0, "with_cycle": 0, "complete": 0, "behind": 0, "certified_this_year": 0} for s in schools}
    for teacher_id, school_id in teachers:
        row = rows[school_id]
        row["teachers"] += 1
        row["certified_this_year"] += teacher_id in certified
        cycle = cycles.get(teacher_id)
        if cycle is None:
            continue
        row["with_cycle"] += 1
        total, school_based = totals.get(teacher_id, [ZERO, ZERO])
        if total >= policy.total_hours and school_based >= policy.min_school_based:
            row["complete"] += 1
        else:
            elapsed = max(0, (min(today, cycle.end_date) - cycle.start_date).days)
            if total < policy.pace_per_year * Decimal(elapsed) / Decimal("365.25"):
                row["behind"] += 1
    return list(rows.values())
