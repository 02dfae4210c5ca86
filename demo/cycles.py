"""Demo of a five-year cycle deployment (Henan / Zhengzhou): province → city → districts and a county
→ schools; teachers in every situation of a cycle; projects designed at each level (idempotent).

Run with `python3 run.py demo --cycle` (which sets CPD_REGIME=cycle and uses its own database).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import OrgKind, Role, RoleKind, Stage, Teacher, TeacherEvent, TeacherEventKind, TeacherStatus
from accounts.services import cpd_numbers_issue
from cycles.rules import add_years, cycles_open_due
from demo.accounts import DEMO_PASSWORD, _org, _teacher_rows, _user
from hours import ledger
from hours.models import Category, LedgerEntry, Source
from training import projects as project_services
from training.models import ProjectKind, ProjectLevel, TargetStage, TrainingProject

PROVINCE = ("41", "河南省")
CITY = ("4101", "郑州市")
DISTRICTS = [
    ("410105", "金水区", OrgKind.DISTRICT),
    ("410102", "中原区", OrgKind.DISTRICT),
    ("410185", "登封市（县级）", OrgKind.DISTRICT),
    ("410100", "郑州市直属学校", OrgKind.CITY_DIRECT),
]
SCHOOLS = [
    ("410105001", "金水区纬五路第一小学", "410105", Stage.PRIMARY),
    ("410105002", "金水区实验幼儿园", "410105", Stage.KINDERGARTEN),
    ("410102001", "中原区建设路中学", "410102", Stage.JUNIOR),
    ("410185001", "登封市嵩阳小学", "410185", Stage.PRIMARY),
    ("410100001", "郑州市第一中学", "410100", Stage.SENIOR),
]
LOGINS = [
    ("province", RoleKind.PROVINCE_ADMIN, "41", "省教育厅继续教育管理员"),
    ("city", RoleKind.CITY_ADMIN, "4101", "郑州市教育局"),
    ("district", RoleKind.DISTRICT_ADMIN, "410105", "金水区教育局"),
    ("county", RoleKind.DISTRICT_ADMIN, "410185", "登封市教育局（县级）"),
    ("school", RoleKind.SCHOOL_ADMIN, "410105001", "纬五路一小继续教育管理员"),
    ("principal", RoleKind.PRINCIPAL, "410105001", "纬五路一小校长"),
]


@transaction.atomic
def seed_cycle_demo() -> list[tuple[str, str, str]]:
    rng = random.Random(410105)
    today = timezone.localdate()
    province = _org(PROVINCE[0], PROVINCE[1], OrgKind.PROVINCE, None)
    city = _org(CITY[0], CITY[1], OrgKind.CITY, province)
    districts = {code: _org(code, name, kind, city) for code, name, kind in DISTRICTS}
    schools = {code: _org(code, name, OrgKind.SCHOOL, districts[d]) for code, name, d, _s in SCHOOLS}
    orgs = {province.code: province, city.code: city, **districts, **schools}
    existing = set(Teacher.objects.values_list("id_number", flat=True))
    rows = []
    for code, _name, district_code, stage in SCHOOLS:
        for row in _teacher_rows(rng, schools[code], district_code, stage, 24):
            if row["id_number"] not in existing:
                existing.add(row["id_number"])
                rows.append(row)
    if rows:
        numbers = cpd_numbers_issue(count=len(rows))
        created = Teacher.objects.bulk_create([Teacher(cpd_number=n, **r) for r, n in zip(rows, numbers, strict=True)])
        TeacherEvent.objects.bulk_create(
            [
                TeacherEvent(
                    teacher_id=t.pk,
                    kind=TeacherEventKind.ONBOARDED,
                    effective_date=t.first_employment_date or today,
                    to_school_id=t.school_id,
                    to_status=TeacherStatus.ACTIVE,
                    note="演示数据",
                )
                for t in Teacher.objects.filter(cpd_number__in=numbers)
            ]
        )
        del created
    logins = []
    for username, kind, org_code, display in LOGINS:
        user = _user(username, display, staff=kind == RoleKind.CITY_ADMIN)
        Role.objects.get_or_create(user=user, kind=kind, organisation=orgs[org_code])
        logins.append((username, DEMO_PASSWORD, f"{kind.label} · {orgs[org_code].name}"))

    school = schools["410105001"]
    pool = list(Teacher.objects.filter(school=school, status=TeacherStatus.ACTIVE, user__isnull=True).order_by("pk"))
    people = {
        "teacher": (
            "赵文静",
            "周期即将完成（再登记20学时即可）",
            add_years(today, -4).replace(day=1),
            Decimal("340"),
            Decimal("80"),
        ),
        "done": (
            "孙立华",
            "周期学时已完成，可下载登记证书",
            add_years(today, -5) + datetime.timedelta(days=30),
            Decimal("372"),
            Decimal("96"),
        ),
        "behind": ("钱建国", "进度落后", add_years(today, -3), Decimal("96"), Decimal("24")),
        "newteacher": (
            "李思雨",
            "新教师（首年120学时新教师培训）",
            today - datetime.timedelta(days=150),
            Decimal("0"),
            Decimal("0"),
        ),
    }
    for username, (name, what, start, total, school_based) in people.items():
        user = _user(username, name)
        t = Teacher.objects.filter(user=user).first()
        if t is None:
            t = pool.pop(0)
            t.user = user
            t.name = name
            t.first_employment_date = start
            t.save()
        Role.objects.get_or_create(user=user, kind=RoleKind.TEACHER, organisation=t.school)
        logins.append((username, DEMO_PASSWORD, f"{what} · {t.school.name}"))
        if not LedgerEntry.objects.filter(teacher=t).exists():
            _cycle_hours(t, start, today, total, school_based, new_teacher=username == "newteacher")

    if not TrainingProject.objects.exists():
        _projects(orgs, today)
    # What the nightly job (cycles.tasks.open_due_cycles) does in a deployment: every teacher's cycle is stored.
    cycles_open_due(today=today)
    return logins


def _cycle_hours(
    teacher: Teacher, start: datetime.date, today: datetime.date, total: Decimal, school_based: Decimal, new_teacher: bool
) -> None:
    """Spread `total` hours over the cycle so far, `school_based` of them school-based."""
    entries = []
    span = max(1, (today - start).days)
    remaining, sb_left, i = total, school_based, 0
    while remaining > 0:
        hours = min(Decimal("24"), remaining)
        day = start + datetime.timedelta(days=int(span * (i + 1) / (int(total / 24) + 2)))
        sb = sb_left > 0
        entries.append(
            dict(
                teacher=teacher,
                year=day.year,
                category=Category.PROFESSIONAL,
                hours=hours,
                source=Source.REGISTRATION,
                title="校本研修：课例研讨" if sb else "区县学科培训",
                organiser=teacher.school.name if sb or teacher.school.parent is None else teacher.school.parent.name,
                start_date=day,
                end_date=day + datetime.timedelta(days=3),
                school_based=sb,
                source_ref=f"cycle-demo:{teacher.pk}:{i}",
            )
        )
        if sb:
            sb_left -= hours
        remaining -= hours
        i += 1
    if new_teacher:
        day = today - datetime.timedelta(days=20)
        entries.append(
            dict(
                teacher=teacher,
                year=day.year,
                category=Category.PROFESSIONAL,
                hours=Decimal("48"),
                source=Source.REGISTRATION,
                title="新教师入职培训（第一阶段）",
                organiser="郑州市教师发展中心",
                start_date=day - datetime.timedelta(days=7),
                end_date=day,
                new_teacher=True,
                source_ref=f"cycle-demo:{teacher.pk}:new",
            )
        )
    ledger.entries_create_many(entries)


def _projects(orgs, today: datetime.date) -> None:
    """One project designed at each level, the county's key-teacher project waiting for the city's approval."""
    start = today - datetime.timedelta(days=10)
    base = {
        "category": Category.PROFESSIONAL,
        "start_date": start,
        "end_date": start + datetime.timedelta(days=4),
        "mode": "face_to_face",
        "kind": ProjectKind.TRAINING,
    }
    designs = [
        (
            "province",
            "41",
            {
                "title": "河南省高中骨干教师省级研修",
                "hours": Decimal("30"),
                "level": ProjectLevel.PROVINCE,
                "target_stage": TargetStage.SENIOR,
            },
        ),
        (
            "city",
            "4101",
            {
                "title": "郑州市初中学科能力提升培训",
                "hours": Decimal("24"),
                "level": ProjectLevel.CITY,
                "target_stage": TargetStage.JUNIOR,
            },
        ),
        (
            "district",
            "410105",
            {
                "title": "金水区小学语文教研培训",
                "hours": Decimal("18"),
                "level": ProjectLevel.DISTRICT,
                "target_stage": TargetStage.PRIMARY,
            },
        ),
        (
            "county",
            "410185",
            {
                "title": "登封市小学骨干教师培训",
                "hours": Decimal("24"),
                "level": ProjectLevel.DISTRICT,
                "target_stage": TargetStage.PRIMARY,
                "for_key_teachers": True,
            },
        ),
        (
            "school",
            "410105001",
            {
                "title": "纬五路一小校本研修：大单元教学",
                "hours": Decimal("12"),
                "level": ProjectLevel.SCHOOL,
                "target_stage": TargetStage.ANY,
                "kind": ProjectKind.SCHOOL_BASED,
            },
        ),
    ]
    for username, _code, data in designs:
        role = (
            Role.objects.select_related("user", "organisation")
            .filter(user__username=username)
            .exclude(kind=RoleKind.TEACHER)
            .first()
        )
        assert role is not None  # the demo's designers exist
        project = project_services.project_save(role=role, actor=role.user, data={**base, **data})
        if not project.for_key_teachers:
            project_services.project_publish(role=role, project=project)
