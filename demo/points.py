"""Demo points: rules, this year's window, the demo teacher's points and requests in every state,
last year's points expired (idempotent)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleKind, Teacher
from points import services
from points.models import EarningRule, EntryKind, ExchangeWindow, PointsAccount, RuleKind

RULES = [
    ("login", "每日登录研修平台", 1, RuleKind.BASIC, 1, 300),
    ("post", "发表研修帖子", 5, RuleKind.BASIC, 20, None),
    ("course", "完成研修课程", 20, RuleKind.BASIC, 40, 2000),
    ("lesson_upload", "上传优质课例", 50, RuleKind.BONUS, None, 500),
    ("award", "研修成果获奖", 100, RuleKind.BONUS, None, 600),
]


@transaction.atomic
def seed_points_demo() -> None:
    today = timezone.localdate()
    year = today.year
    if EarningRule.objects.exists():
        return
    for code, name, points, kind, daily, yearly in RULES:
        EarningRule.objects.create(action_code=code, name=name, points=points, kind=kind, daily_limit=daily, yearly_limit=yearly)
    ExchangeWindow.objects.create(
        year=year, opens_on=datetime.date(year, 1, 1), closes_on=max(datetime.date(year, 12, 25), today)
    )

    teacher = Teacher.objects.get(user__username="teacher")
    n = 0
    for i in range(12):
        day = today - datetime.timedelta(days=i)
        if day.year != year:
            break
        for code in ("login", "post", "course"):
            n += 1
            services.points_earn(
                event_id=f"demo-{teacher.pk}-{n}", teacher_key=teacher.cpd_number, action_code=code, occurred_on=day
            )
    for code in ("lesson_upload", "award", "award", "lesson_upload"):
        n += 1
        services.points_earn(
            event_id=f"demo-{teacher.pk}-{n}", teacher_key=teacher.cpd_number, action_code=code, occurred_on=today
        )
    # A refused one (over the daily limit) so the rules page shows a refusal with its reason.
    services.points_earn(
        event_id=f"demo-{teacher.pk}-login-again", teacher_key=teacher.cpd_number, action_code="login", occurred_on=today
    )

    t_role = Role.objects.select_related("user").get(user=teacher.user, kind=RoleKind.TEACHER)
    school = Role.objects.select_related("user", "organisation").get(user__username="school", kind=RoleKind.SCHOOL_ADMIN)
    paid = services.exchange_request(role=t_role, actor=t_role.user, category="elective", hours=3)
    services.exchange_confirm_paid(role=school, actor=school.user, request_ids=[paid.pk])
    refused = services.exchange_request(role=t_role, actor=t_role.user, category="professional", hours=1)
    services.exchange_refuse(role=school, actor=school.user, request=refused, reason="本月兑付名额已满，请下月再申请")
    cancelled = services.exchange_request(role=t_role, actor=t_role.user, category="professional", hours=1)
    services.exchange_cancel(role=t_role, actor=t_role.user, request=cancelled)
    services.exchange_request(role=t_role, actor=t_role.user, category="professional", hours=2)

    # Last year's points, cleared by the year-end job.
    account, _ = PointsAccount.objects.get_or_create(teacher=teacher, year=year - 1)
    services._entry(account, EntryKind.EARNED, 260, 260, reason="上年研修积分", occurred_on=datetime.date(year - 1, 6, 1))
    services.points_expire_year(year - 1)
