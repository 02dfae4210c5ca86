"""Demo-like data for the phone list pages (tests/test_list_cards.py and tests/browser/test_phone_cards.py).

teacher_a1 of school_a1 gets what a teacher has by spring: a submitted, a returned and a school-approved
declaration, hours registered by the school's own training (one of them complained about), points with a
pending exchange, and last year's verification result. Everything goes through the services, as on the pages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from demo.hours import demo_png
from hours import ledger, services
from hours.models import Declaration
from points import services as points
from points.models import EarningRule, ExchangeWindow
from training import projects
from verification import services as verification
from verification.models import YearPolicy

TEACHER = "teacher_a1"
SCHOOL_ADMIN = "school_a1_admin"


def _dates() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = max(today - datetime.timedelta(days=4), datetime.date(today.year, 1, 1))
    return start, min(start + datetime.timedelta(days=1), today)


def declare(world, title: str, *, hours: str = "6") -> Declaration:
    start, end = _dates()
    data = {
        "year": start.year,
        "category": "professional",
        "activity_type": "teaching_research",
        "title": title,
        "organiser": "越秀区教育发展中心",
        "start_date": start,
        "end_date": end,
        "hours": Decimal(hours),
        "certificate_number": f"JR-{title}",
        "certificate_in_chinese": True,
        "certificate_states_hours": True,
    }
    png = demo_png(sum(map(ord, title)) % 997)
    return services.declaration_save(
        role=world.roles[TEACHER],
        actor=world.users[TEACHER],
        data=data,
        files=[("certificate", SimpleUploadedFile("证书.png", png, content_type="image/png"))],
        submit=True,
    )


def demo_like(world) -> dict:
    """Fill teacher_a1's and school_a1's lists; returns the objects the tests look for."""
    today = timezone.localdate()
    school, school_user = world.roles[SCHOOL_ADMIN], world.users[SCHOOL_ADMIN]
    teacher = world.teachers[TEACHER]

    submitted = declare(world, "区级教研活动")
    declare(world, "市级骨干教师培训", hours="12")
    returned = declare(world, "读书分享会", hours="3")
    services.declaration_transition(
        declaration_id=returned.pk, action="school_return", role=school, actor=school_user, reason="证书照片不清楚，请重新上传"
    )
    forwarded = declare(world, "信息技术应用能力提升", hours="8")
    services.declaration_transition(declaration_id=forwarded.pk, action="school_approve", role=school, actor=school_user)

    start, end = _dates()
    project = projects.project_save(
        role=school,
        actor=school_user,
        data={
            "title": "校本研修：课堂观察",
            "category": "professional",
            "hours": Decimal("6"),
            "start_date": start,
            "end_date": end,
            "level": projects.LEVELS_FOR_ORG[school.organisation.kind][0],
            "kind": "training",
            "mode": "face_to_face",
            "enrolment_start": None,
            "enrolment_end": None,
            "description": "",
        },
        quotas=None,
    )
    project = projects.project_publish(role=school, project=project)
    projects.registration_register(role=school, actor=school_user, project=project, rows=[(teacher.pk, Decimal("6"))])
    registered = teacher.ledger_entries.get(project=project)
    projects.complaint_file(
        role=world.roles[TEACHER], actor=world.users[TEACHER], entry=registered, message="实际参加了两天，应为12学时"
    )

    ExchangeWindow.objects.create(
        year=today.year, opens_on=datetime.date(today.year, 1, 1), closes_on=datetime.date(today.year, 12, 31)
    )
    # An English name: the rule is data the phone journey reads in English.
    EarningRule.objects.create(action_code="course", name="Course completed", points=50)
    for i in range(5):
        points.points_earn(event_id=f"cards-{i}", teacher_key=teacher.id_number, action_code="course", occurred_on=today)
    exchange = points.exchange_request(role=world.roles[TEACHER], actor=world.users[TEACHER], category="elective", hours=1)

    last = today.year - 1
    YearPolicy.objects.get_or_create(
        year=last,
        defaults={"min_total": 90, "min_public": 30, "min_professional": 42, "min_elective": 18, "carry_rule": "2022"},
    )
    for category, hours in (("public", 30), ("professional", 48), ("elective", 12)):
        ledger.entry_create(
            teacher=teacher,
            year=last,
            category=category,
            hours=Decimal(hours),
            source="registration",
            title=f"{last}年{category}培训",
            organiser="越秀区教育发展中心",
        )
    verification.run_start(role=world.roles["city_admin"], actor=world.users["city_admin"], year=last, inline=True)
    return {"submitted": submitted, "returned": returned, "project": project, "entry": registered, "exchange": exchange}
