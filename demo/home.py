"""Demo data for the home pages (idempotent): a teacher who is short this year (`short`) with
projects open for enrolment in the categories they miss and some points; `teacher` is the one who
is done; the reviewers' to-do lists come from the declarations, requests and enrolments seeded
by the other demo modules."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleKind, Teacher, TeacherStatus, User
from home import figures
from verification.models import YearPolicy

DEMO_PASSWORD = "cpd-demo-2026"


@transaction.atomic
def seed_home_demo() -> list[tuple[str, str, str]]:
    today = timezone.localdate()
    year = today.year
    policy = YearPolicy.objects.filter(year=year).first()
    if policy is None:
        return []
    anchor = Teacher.objects.select_related("school").get(user__username="teacher")
    user = User.objects.filter(username="short").first()
    if user is None:
        candidates = list(
            Teacher.objects.filter(school=anchor.school, status=TeacherStatus.ACTIVE, user__isnull=True).order_by("pk")[:40]
        )
        figs = figures.year_figures(year=year, teacher_ids=[t.pk for t in candidates])
        # the most short one that still misses professional or elective hours (so points and projects help)
        short = [
            t
            for t in candidates
            if (s := figures.shortfalls(policy, figs.get(t.pk) or figures.zero(t.pk, year)))["professional"] > 0
            or s["elective"] > 0
        ]
        if not short:
            return []
        teacher = short[0]
        user = User.objects.create(username="short", name=teacher.name)
        teacher.user = user
        teacher.save(update_fields=["user"])
        Role.objects.create(user=user, kind=RoleKind.TEACHER, organisation=teacher.school)
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    teacher = Teacher.objects.get(user=user)
    _open_projects(today)
    _points(teacher, today)
    return [("short", DEMO_PASSWORD, f"学时未达标的教师（首页可见如何补足） · {teacher.school.name}")]


def _open_projects(today: datetime.date) -> None:
    """Two city projects open for enrolment now that end before Dec 31 (none late in December)."""
    from hours.models import Category
    from training import projects
    from training.models import ProjectKind, ProjectLevel, TrainingProject

    start = today + datetime.timedelta(days=10)
    if start.year != today.year or (datetime.date(today.year, 12, 31) - start).days < 1:
        return
    city = Role.objects.select_related("user", "organisation").get(user__username="city", kind=RoleKind.CITY_ADMIN)
    for title, category, hours in (
        (f"{today.year}年冬季专业科目集中培训（补学时）", Category.PROFESSIONAL, "12"),
        (f"{today.year}年班主任工作坊（个人选修）", Category.ELECTIVE, "6"),
    ):
        if TrainingProject.objects.filter(title=title).exists():
            continue
        project = projects.project_save(
            role=city,
            actor=city.user,
            data={
                "title": title,
                "category": category,
                "hours": Decimal(hours),
                "start_date": start,
                "end_date": start + datetime.timedelta(days=1),
                "level": ProjectLevel.CITY,
                "kind": ProjectKind.TRAINING,
                "mode": "face_to_face",
                "enrolment_start": today - datetime.timedelta(days=2),
                "enrolment_end": start - datetime.timedelta(days=2),
                "description": "面向本年度学时尚未达标的教师。",
            },
        )
        projects.project_publish(role=city, project=project)


def _points(teacher: Teacher, today: datetime.date) -> None:
    """Enough points for a few hours, earned through the platform-event service (once)."""
    from points import services
    from points.models import EarningRule, PointsAccount

    if PointsAccount.objects.filter(teacher=teacher, year=today.year, balance__gt=0).exists():
        return
    rule, _created = EarningRule.objects.get_or_create(
        action_code="demo-home-lesson", defaults={"name": "上传优质课例（演示）", "points": 100}
    )
    for i in range(6):
        services.points_earn(
            event_id=f"demo-home-{teacher.pk}-{today.year}-{i}",
            teacher_key=teacher.cpd_number,
            action_code=rule.action_code,
            occurred_on=today,
        )
