"""Demo data for the README's first command: one city, its districts, schools, teachers, a login per role.

Idempotent: organisations, teachers and users are looked up by their natural keys
(code, ID number, username) and only created when missing; demo passwords are reset.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from accounts.idnumber import gender_from_id_number, make_id_number
from accounts.models import (
    Organisation,
    OrgKind,
    PostType,
    ProfessionalTitle,
    Role,
    RoleKind,
    RosterConfirmation,
    Stage,
    Subject,
    Teacher,
    TeacherEvent,
    TeacherEventKind,
    TeacherStatus,
    User,
)
from accounts.services import cpd_numbers_issue

DEMO_PASSWORD = "cpd-demo-2026"

CITY = ("4401", "广州市")
DISTRICTS = [
    ("440104", "越秀区", OrgKind.DISTRICT),
    ("440105", "海珠区", OrgKind.DISTRICT),
    ("440106", "天河区", OrgKind.DISTRICT),
    ("440100", "市直属学校（市中小学教师培训中心）", OrgKind.CITY_DIRECT),
]
SCHOOLS = [
    ("440104001", "越秀区育才小学", "440104", Stage.PRIMARY),
    ("440104002", "越秀区东山实验中学", "440104", Stage.JUNIOR),
    ("440104003", "越秀区启明幼儿园", "440104", Stage.KINDERGARTEN),
    ("440105001", "海珠区南华小学", "440105", Stage.PRIMARY),
    ("440105002", "海珠区江南中学", "440105", Stage.SENIOR),
    ("440105003", "海珠区特殊教育学校", "440105", Stage.SPECIAL),
    ("440106001", "天河区华阳小学", "440106", Stage.PRIMARY),
    ("440106002", "天河区天华中学", "440106", Stage.JUNIOR),
    ("440100001", "广州市第一中学（局属）", "440100", Stage.SENIOR),
    ("440100002", "广州市信息职业学校（局属）", "440100", Stage.VOCATIONAL),
]
PROVIDER = ("4401P01", "广州市教师发展中心")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红志新海波宁婷雪琳晨欣怡子涵宇浩然思"
TEACHERS_PER_SCHOOL = 30

# username, role kind, organisation code, display name
LOGINS = [
    ("city", RoleKind.CITY_ADMIN, "4401", "市继续教育指导中心管理员"),
    ("district", RoleKind.DISTRICT_ADMIN, "440104", "越秀区继续教育主管"),
    ("citycentre", RoleKind.DISTRICT_ADMIN, "440100", "市中小学教师培训中心（局属复审）"),
    ("school", RoleKind.SCHOOL_ADMIN, "440104001", "育才小学继续教育管理员"),
    ("principal", RoleKind.PRINCIPAL, "440104001", "育才小学校长"),
    ("provider", RoleKind.PROVIDER, "4401P01", "教师发展中心培训专员"),
]


def _org(code: str, name: str, kind: str, parent: Organisation | None) -> Organisation:
    org = Organisation.objects.filter(code=code).first()
    if org is None:
        org = Organisation(code=code, name=name, kind=kind, parent=parent)
        org.full_clean()
        org.save()
    return org


def _user(username: str, name: str, *, staff: bool = False) -> User:
    user, _created = User.objects.get_or_create(username=username, defaults={"name": name})
    user.name = name
    user.is_staff = staff
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user


def _teacher_rows(rng: random.Random, school: Organisation, region: str, stage: str, count: int):
    for i in range(count):
        birth = datetime.date(rng.randint(1965, 1999), rng.randint(1, 12), rng.randint(1, 28))
        id_number = make_id_number(region, birth, rng.randint(1, 999))
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        first_job = datetime.date(min(birth.year + 22, 2024), 9, 1)
        yield {
            "name": name,
            "id_number": id_number,
            "gender": gender_from_id_number(id_number),
            "school": school,
            "stage": stage,
            "subject": rng.choice(Subject.values[:14]),
            "title": rng.choice(ProfessionalTitle.values),
            "post_type": PostType.TEACHER if i % 10 else rng.choice(PostType.values),
            "first_employment_date": first_job,
        }


@transaction.atomic
def seed_demo(stdout=None) -> list[tuple[str, str, str]]:
    """Build or refresh the demo city; returns [(username, password, what it is)]."""
    rng = random.Random(20261123)
    city = _org(CITY[0], CITY[1], OrgKind.CITY, None)
    districts = {code: _org(code, name, kind, city) for code, name, kind in DISTRICTS}
    schools = {code: _org(code, name, OrgKind.SCHOOL, districts[d]) for code, name, d, _s in SCHOOLS}
    provider = _org(PROVIDER[0], PROVIDER[1], OrgKind.PROVIDER, city)
    orgs = {city.code: city, provider.code: provider, **districts, **schools}

    # Teachers: about 300, valid IDs; created only if the ID is not there yet.
    existing = set(Teacher.objects.values_list("id_number", flat=True))
    new_rows = []
    for code, _name, district_code, stage in SCHOOLS:
        for row in _teacher_rows(rng, schools[code], district_code, stage, TEACHERS_PER_SCHOOL):
            if row["id_number"] not in existing:
                existing.add(row["id_number"])
                new_rows.append(row)
    if new_rows:
        numbers = cpd_numbers_issue(count=len(new_rows))
        Teacher.objects.bulk_create([Teacher(cpd_number=n, **row) for row, n in zip(new_rows, numbers, strict=True)])
        teachers = Teacher.objects.filter(cpd_number__in=numbers)
        TeacherEvent.objects.bulk_create(
            [
                TeacherEvent(
                    teacher=t,
                    kind=TeacherEventKind.ONBOARDED,
                    effective_date=t.first_employment_date or timezone.localdate(),
                    to_school_id=t.school_id,
                    to_status=TeacherStatus.ACTIVE,
                    note="演示数据",
                )
                for t in teachers
            ]
        )
    # A few retired and left teachers so that the status filters show something.
    for status in (TeacherStatus.RETIRED, TeacherStatus.LEFT):
        if not Teacher.objects.filter(status=status).exists():
            for t in Teacher.objects.filter(status=TeacherStatus.ACTIVE).order_by("?")[:4]:
                t.status = status
                t.save(update_fields=["status"])

    logins = []
    for username, kind, org_code, display in LOGINS:
        user = _user(username, display, staff=kind == RoleKind.CITY_ADMIN)
        if kind == RoleKind.CITY_ADMIN:
            from django.contrib.auth.models import Permission

            user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["accounts", "django_celery_beat"]))
        Role.objects.get_or_create(user=user, kind=kind, organisation=orgs[org_code])
        logins.append((username, DEMO_PASSWORD, f"{kind.label} · {orgs[org_code].name}"))

    # The demo teacher: complete record, at the school the demo school admin runs.
    school1 = schools["440104001"]
    teacher_user = _user("teacher", "陈晓明")
    demo_teacher = (
        Teacher.objects.filter(user=teacher_user).first()
        or Teacher.objects.filter(school=school1, status=TeacherStatus.ACTIVE, user__isnull=True).order_by("pk").first()
    )
    assert demo_teacher is not None  # the demo schools have teachers
    demo_teacher.user = teacher_user
    demo_teacher.name = "陈晓明"
    demo_teacher.save()
    Role.objects.get_or_create(user=teacher_user, kind=RoleKind.TEACHER, organisation=demo_teacher.school)
    logins.append(("teacher", DEMO_PASSWORD, f"教师（信息完整） · {demo_teacher.school.name}"))

    # A new teacher whose record still misses required fields.
    new_user = _user("newteacher", "林小雨")
    newbie = Teacher.objects.filter(user=new_user).first()
    if newbie is None:
        newbie = Teacher.objects.filter(school=school1, status=TeacherStatus.ACTIVE, user__isnull=True).order_by("-pk").first()
        assert newbie is not None
        newbie.user = new_user
        newbie.name = "林小雨"
        newbie.subject = ""
        newbie.title = ""
        newbie.post_type = ""
        newbie.first_employment_date = None
        newbie.save()
    Role.objects.get_or_create(user=new_user, kind=RoleKind.TEACHER, organisation=newbie.school)
    logins.append(("newteacher", DEMO_PASSWORD, f"新教师（信息待补充） · {newbie.school.name}"))

    # A user with two roles: school admin of another school and a teacher there.
    school2 = schools["440104002"]
    multi_user = _user("multi", "黄志强")
    Role.objects.get_or_create(user=multi_user, kind=RoleKind.SCHOOL_ADMIN, organisation=school2)
    multi_teacher = Teacher.objects.filter(user=multi_user).first()
    if multi_teacher is None:
        multi_teacher = Teacher.objects.filter(school=school2, status=TeacherStatus.ACTIVE, user__isnull=True).first()
        assert multi_teacher is not None
        multi_teacher.user = multi_user
        multi_teacher.name = "黄志强"
        multi_teacher.save()
    Role.objects.get_or_create(user=multi_user, kind=RoleKind.TEACHER, organisation=school2)
    logins.append(("multi", DEMO_PASSWORD, f"学校管理员 + 教师（可切换角色） · {school2.name}"))

    # Roster confirmations: most schools recent, two overdue, one never.
    if not RosterConfirmation.objects.exists():
        now = timezone.now()
        for i, (code, *_rest) in enumerate(SCHOOLS):
            if i == 5:
                continue  # never confirmed
            age = 300 if i in (2, 7) else 20 + i
            RosterConfirmation.objects.create(
                school=schools[code],
                confirmed_at=now - datetime.timedelta(days=age),
                active_teachers=Teacher.objects.filter(school=schools[code], status=TeacherStatus.ACTIVE).count(),
            )
    return logins
