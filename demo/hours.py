"""Demo hours: ledger entries from every source and declarations in every state (idempotent)."""

from __future__ import annotations

import datetime
import random
import struct
import zlib
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleKind, Teacher, TeacherStatus
from hours import ledger, services
from hours.models import ActivityType, Category, Declaration, Source, Year


def demo_png(seed: int = 0) -> bytes:
    """A small real PNG (a tinted certificate-like block) so that the review pages show an image."""
    width, height = 240, 160
    r, g, b = 200 + seed % 50, 220, 240 - seed % 60
    rows = []
    for y in range(height):
        border = y < 6 or y >= height - 6
        row = bytearray([0])
        for x in range(width):
            edge = border or x < 6 or x >= width - 6
            row += bytes((150, 30, 30) if edge else (r, g, b))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def demo_pdf(title: str = "Training certificate") -> bytes:
    text = f"BT /F1 18 Tf 40 120 Td ({title}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(text)).encode() + b" >>\nstream\n" + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _files(seed: int, pdf: bool = False):
    if pdf:
        return [("certificate", SimpleUploadedFile(f"cert{seed}.pdf", demo_pdf(f"Certificate No. {seed}")))]
    return [("certificate", SimpleUploadedFile(f"cert{seed}.png", demo_png(seed)))]


def _declare(
    role, teacher_user, title, *, seed, category=Category.PROFESSIONAL, hours="6", month=3, submit=True, pdf=False, **extra
):
    today = timezone.localdate()
    start = min(datetime.date(today.year, month, 10), today)
    end = min(datetime.date(today.year, month, 11), today)
    hours = min(Decimal(hours), Decimal(((end - start).days + 1) * 6))
    data = {
        "year": today.year,
        "category": category,
        "activity_type": extra.pop("activity_type", ActivityType.AUTHORITY_TRAINING),
        "title": title,
        "organiser": extra.pop("organiser", "广州市教育研究院"),
        "start_date": start,
        "end_date": end,
        "hours": hours,
        "certificate_number": extra.pop("certificate_number", f"DEMO-{seed:05d}"),
        "certificate_in_chinese": True,
        "certificate_states_hours": True,
        **extra,
    }
    return services.declaration_save(role=role, actor=teacher_user, data=data, files=_files(seed, pdf), submit=submit)


def _role(user, kind):
    return Role.objects.select_related("organisation").get(user=user, kind=kind)


@transaction.atomic
def seed_hours_demo() -> None:
    year = timezone.localdate().year
    teacher = Teacher.objects.select_related("user", "school").get(user__username="teacher")
    if Declaration.objects.filter(teacher=teacher).exists():
        return
    rng = random.Random(7)
    school_admin = Role.objects.select_related("user", "organisation").get(user__username="school", kind=RoleKind.SCHOOL_ADMIN)
    district_admin = Role.objects.select_related("user", "organisation").get(
        user__username="district", kind=RoleKind.DISTRICT_ADMIN
    )
    centre = Role.objects.select_related("user", "organisation").get(user__username="citycentre", kind=RoleKind.DISTRICT_ADMIN)

    # Hours that arrived without a declaration, for every active teacher, the last three years and this one.
    years = DEMO_YEARS(year)
    for y in years:
        Year.get_or_create_for(y)
    district_projects = _district_projects(years)
    entries = []
    topics = ["师德师风建设", "心理健康教育", "法治教育与依法执教", "人工智能通识"]
    for t in Teacher.objects.filter(status=TeacherStatus.ACTIVE).select_related("school"):
        for y in years:
            dp = district_projects[(t.school.parent_id, y)]
            strong = rng.random() < 0.85  # most teachers meet the year's requirements
            public_parts = [18, 12] if strong else [rng.choice([12, 18])]
            for i, h in enumerate(public_parts):
                entries.append(
                    dict(
                        teacher=t,
                        year=y,
                        category=Category.PUBLIC,
                        hours=Decimal(h),
                        source=Source.PROVINCIAL_IMPORT,
                        title=f"公需科目：{topics[(t.pk + i) % 4]}",
                        organiser="广东省专业技术人员继续教育平台",
                        source_ref=f"demo-prov:{t.pk}:{y}:{i}",
                    )
                )
            if rng.random() < 0.1:  # the same topic studied twice: counts once
                entries.append(
                    dict(
                        teacher=t,
                        year=y,
                        category=Category.PUBLIC,
                        hours=Decimal(18),
                        source=Source.PROVINCIAL_IMPORT,
                        title=f"公需科目：{topics[t.pk % 4]}",
                        organiser="广东省专业技术人员继续教育平台",
                        source_ref=f"demo-prov:{t.pk}:{y}:dup",
                    )
                )
            entries.append(
                dict(
                    teacher=t,
                    year=y,
                    category=Category.PROFESSIONAL,
                    hours=Decimal(rng.choice([42, 42, 36]) if strong else rng.choice([18, 24])),
                    source=Source.REGISTRATION,
                    title=dp.title,
                    organiser=dp.organiser.name,
                    start_date=dp.start_date,
                    end_date=dp.end_date,
                    project=dp,
                )
            )
            if strong and rng.random() < 0.5:
                entries.append(
                    dict(
                        teacher=t,
                        year=y,
                        category=Category.PROFESSIONAL,
                        hours=Decimal(rng.choice([6, 12, 18])),
                        source=Source.REGISTRATION,
                        title=f"{y}年市级学科专题培训",
                        organiser="广州市教师发展中心",
                        source_ref=f"demo-reg2:{t.pk}:{y}",
                    )
                )
            if strong or rng.random() < 0.5:
                entries.append(
                    dict(
                        teacher=t,
                        year=y,
                        category=Category.ELECTIVE,
                        hours=Decimal(rng.choice([18, 24]) if strong else 6),
                        source=Source.ONLINE_COURSE,
                        title="网络课程：信息技术与教学融合",
                        organiser="广州智慧教育平台",
                        source_ref=f"demo-online:{t.pk}:{y}",
                    )
                )
    ledger.entries_create_many(entries, batch_size=2000)

    t_role = _role(teacher.user, RoleKind.TEACHER)
    u = teacher.user
    # Every state for the demo teacher.
    _declare(t_role, u, "读书分享会（草稿）", seed=1, submit=False, category=Category.ELECTIVE, activity_type=ActivityType.OTHER)
    _declare(t_role, u, "省级骨干教师研修班", seed=2, hours="12", pdf=True)
    d3 = _declare(t_role, u, "市级课题中期汇报", seed=3, activity_type=ActivityType.RESEARCH)
    services.declaration_transition(declaration_id=d3.pk, action="school_approve", role=school_admin, actor=school_admin.user)
    d4 = _declare(t_role, u, "华南师大暑期学科研修", seed=4, hours="18", month=7)
    services.declaration_transition(declaration_id=d4.pk, action="school_approve", role=school_admin, actor=school_admin.user)
    services.declaration_transition(
        declaration_id=d4.pk, action="district_approve", role=district_admin, actor=district_admin.user
    )
    d5 = _declare(t_role, u, "学术年会论文报告", seed=5, activity_type=ActivityType.CONFERENCE, month=5)
    services.declaration_transition(
        declaration_id=d5.pk,
        action="school_return",
        role=school_admin,
        actor=school_admin.user,
        reason="证明材料不清晰，请重新上传原件扫描件",
    )
    d6 = _declare(t_role, u, "商业机构营销讲座", seed=6, category=Category.ELECTIVE, activity_type=ActivityType.OTHER, month=6)
    services.declaration_transition(
        declaration_id=d6.pk, action="reject", role=school_admin, actor=school_admin.user, reason="与教育教学无关，不予认定"
    )
    # A likely duplicate: the same certificate number as an approved one.
    _declare(t_role, u, "华南师大暑期学科研修（重复提交）", seed=7, hours="18", month=7, certificate_number="DEMO-00004")

    # Queues: other teachers of the demo school wait for the school; 越秀区 schools wait for the district;
    # a city-direct school waits for the city training centre.
    for i, other in enumerate(Teacher.objects.filter(school=teacher.school, status=TeacherStatus.ACTIVE, user__isnull=True)[:4]):
        other_role = _ensure_login(other)
        _declare(
            other_role,
            other_role.user,
            ["信息技术应用能力提升培训", "班主任工作坊", "心理健康教育培训", "作业设计专题研修"][i],
            seed=20 + i,
            month=2 + i,
        )
    for i, other in enumerate(
        Teacher.objects.filter(
            school__parent=district_admin.organisation, status=TeacherStatus.ACTIVE, user__isnull=True
        ).exclude(school=teacher.school)[:3]
    ):
        other_role = _ensure_login(other)
        d = _declare(
            other_role,
            other_role.user,
            ["跨学科主题学习研修", "大单元教学设计培训", "名师工作室活动"][i],
            seed=30 + i,
            month=3 + i,
        )
        admin = _school_admin_for(other)
        services.declaration_transition(declaration_id=d.pk, action="school_approve", role=admin, actor=admin.user)
    for i, other in enumerate(
        Teacher.objects.filter(school__parent=centre.organisation, status=TeacherStatus.ACTIVE, user__isnull=True)[:2]
    ):
        other_role = _ensure_login(other)
        d = _declare(other_role, other_role.user, ["高中新课程新教材培训", "职业教育双师型教师培训"][i], seed=40 + i, month=4 + i)
        admin = _school_admin_for(other)
        services.declaration_transition(declaration_id=d.pk, action="school_approve", role=admin, actor=admin.user)


def DEMO_YEARS(year: int) -> tuple[int, ...]:
    return (year - 3, year - 2, year - 1, year)


def _district_projects(years) -> dict:
    """A published teaching-research project per district (and the city-direct unit) and year."""
    from accounts.models import Organisation, OrgKind
    from training.models import ProjectKind, ProjectLevel, TrainingProject

    result = {}
    for district in Organisation.objects.filter(kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]):
        for y in years:
            project, _created = TrainingProject.objects.get_or_create(
                organiser=district,
                title=f"{y}年{district.name}学科教研培训",
                defaults={
                    "category": Category.PROFESSIONAL,
                    "hours": Decimal("42"),
                    "start_date": datetime.date(y, 4, 1),
                    "end_date": datetime.date(y, 4, 7),
                    "level": ProjectLevel.DISTRICT,
                    "kind": ProjectKind.TEACHING_RESEARCH,
                    "published_at": timezone.now(),
                },
            )
            result[(district.pk, y)] = project
    return result


def _ensure_login(teacher: Teacher) -> Role:
    from accounts.models import User
    from demo.accounts import DEMO_PASSWORD

    user, _created = User.objects.get_or_create(username=teacher.cpd_number, defaults={"name": teacher.name})
    user.set_password(DEMO_PASSWORD)
    user.save()
    if teacher.user_id != user.pk:
        teacher.user = user
        teacher.save(update_fields=["user"])
    role, _created = Role.objects.get_or_create(user=user, kind=RoleKind.TEACHER, organisation=teacher.school)
    return role


def _school_admin_for(teacher: Teacher) -> Role:
    from accounts.models import User
    from demo.accounts import DEMO_PASSWORD

    role = (
        Role.objects.select_related("user", "organisation")
        .filter(kind=RoleKind.SCHOOL_ADMIN, organisation=teacher.school)
        .first()
    )
    if role is None:
        user, _created = User.objects.get_or_create(
            username=f"school-{teacher.school.code}", defaults={"name": f"{teacher.school.name}管理员"}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        role = Role.objects.create(user=user, kind=RoleKind.SCHOOL_ADMIN, organisation=teacher.school)
    return role
