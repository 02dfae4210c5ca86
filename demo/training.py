"""Demo training projects: enrolment in every state, quotas (one full), registrations, a school-based
project, an extension request, a complaint, the course catalogue and a demo platform key (idempotent)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, RoleKind, Teacher, TeacherStatus
from cpd.models import PlatformClient
from hours.models import Category
from training import projects
from training.models import OnlineCourse, ProjectKind, ProjectLevel, TrainingProject

DEMO_PLATFORM_KEY = "demo-online-platform-key-change-me"


def _role(username: str, kind: str) -> Role:
    return Role.objects.select_related("user", "organisation").get(user__username=username, kind=kind)


@transaction.atomic
def seed_projects_demo() -> None:
    today = timezone.localdate()
    year = today.year
    if TrainingProject.objects.filter(title__startswith=f"{year}年市级骨干教师").exists():
        return
    city = _role("city", RoleKind.CITY_ADMIN)
    district = _role("district", RoleKind.DISTRICT_ADMIN)
    school = _role("school", RoleKind.SCHOOL_ADMIN)
    principal = _role("principal", RoleKind.PRINCIPAL)
    provider = _role("provider", RoleKind.PROVIDER)
    teacher_role = _role("teacher", RoleKind.TEACHER)
    districts = list(Organisation.objects.filter(kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]).order_by("code"))

    start = max(datetime.date(year, 1, 5), today - datetime.timedelta(days=40))
    window = {"enrolment_start": today - datetime.timedelta(days=10), "enrolment_end": today + datetime.timedelta(days=20)}
    # A city project with quotas and an open enrolment window; 越秀区's quota is small so it fills up.
    city_project = projects.project_save(
        role=city,
        actor=city.user,
        data={
            "title": f"{year}年市级骨干教师高级研修班",
            "category": Category.PROFESSIONAL,
            "hours": Decimal("30"),
            "start_date": max(start, today - datetime.timedelta(days=5)) if today.month > 1 else start,
            "end_date": max(start, today - datetime.timedelta(days=1)) if today.month > 1 else start,
            "level": ProjectLevel.CITY,
            "kind": ProjectKind.TRAINING,
            "mode": "face_to_face",
            "description": "面向各区骨干教师的高级研修，结业后由市教师发展中心登记学时。",
            **window,
        },
        quotas={d.pk: (4 if d.code == "440104" else 10) for d in districts},
    )
    _fix_hours(city_project)
    projects.project_publish(role=city, project=city_project)

    # Enrolments of 育才小学 teachers in every state.
    candidates = list(
        Teacher.objects.filter(school=teacher_role.organisation, status=TeacherStatus.ACTIVE).exclude(user=None)[:4]
    )
    for i, t in enumerate(candidates):
        role = Role.objects.select_related("organisation").get(user=t.user, kind=RoleKind.TEACHER)
        e = projects.enrolment_apply(role=role, actor=role.user, project=city_project)
        if i >= 1:
            projects.enrolment_transition(enrolment_id=e.pk, action="principal_approve", role=principal, actor=principal.user)
        if i >= 2:
            projects.enrolment_transition(enrolment_id=e.pk, action="district_approve", role=district, actor=district.user)
        if i >= 3:
            projects.enrolment_transition(enrolment_id=e.pk, action="finalise", role=city, actor=city.user)

    # A provider's online project, registered from its final list.
    provider_project = projects.project_save(
        role=provider,
        actor=provider.user,
        data={
            "title": f"{year}年信息技术应用能力提升工程（网络研修）",
            "category": Category.ELECTIVE,
            "hours": Decimal("12"),
            "start_date": start,
            "end_date": start + datetime.timedelta(days=2),
            "level": ProjectLevel.CITY,
            "kind": ProjectKind.TRAINING,
            "mode": "online",
            "enrolment_start": start - datetime.timedelta(days=3),
            "enrolment_end": start,
        },
    )
    projects.project_publish(role=provider, project=provider_project)

    # School-based training of 育才小学, no enrolment: the school ticks attendees from its roster.
    school_project = projects.project_save(
        role=school,
        actor=school.user,
        data={
            "title": f"{year}年育才小学校本研修：作业设计",
            "category": Category.PROFESSIONAL,
            "hours": Decimal("6"),
            "start_date": start,
            "end_date": start,
            "level": ProjectLevel.SCHOOL,
            "kind": ProjectKind.SCHOOL_BASED,
            "mode": "face_to_face",
        },
    )
    projects.project_publish(role=school, project=school_project)
    attendees = list(
        Teacher.objects.filter(school=school.organisation, status=TeacherStatus.ACTIVE).values_list("pk", flat=True)[:20]
    )
    projects.registration_register(
        role=school, actor=school.user, project=school_project, rows=[(pk, Decimal("6")) for pk in attendees]
    )
    if today <= datetime.date(year, 12, 1):
        projects.extension_request(
            role=school,
            actor=school.user,
            project=school_project,
            requested_until=datetime.date(year + 1, 2, 20),
            reason="部分教师外出支教，次年返校后补登。",
        )

    # The demo teacher complains about a registration.
    entry = school_project.ledger_entries.filter(teacher__user__username="teacher").first()
    if entry is not None:
        projects.complaint_file(
            role=teacher_role, actor=teacher_role.user, entry=entry, message="本人实际参加了两次，应为12学时。"
        )

    for code, title, category, hours in [
        ("GZ-OL-001", "新时代师德师风建设", Category.PUBLIC, "6"),
        ("GZ-OL-002", "人工智能赋能课堂教学", Category.ELECTIVE, "4"),
        ("GZ-OL-003", "义务教育课程方案解读", Category.PROFESSIONAL, "8"),
    ]:
        OnlineCourse.objects.get_or_create(
            code=code, defaults={"title": title, "category": category, "hours": Decimal(hours), "provider": "广州智慧教育平台"}
        )
    if not PlatformClient.objects.filter(name="演示网络学习平台").exists():
        import hashlib

        PlatformClient.objects.create(
            name="演示网络学习平台",
            key_prefix=DEMO_PLATFORM_KEY[:8],
            key_hash=hashlib.sha256(DEMO_PLATFORM_KEY.encode()).hexdigest(),
        )


def _fix_hours(project: TrainingProject) -> None:
    days = (project.end_date - project.start_date).days + 1
    if project.hours > days * 6:
        TrainingProject.objects.filter(pk=project.pk).update(hours=Decimal(days * 6))
        project.hours = Decimal(days * 6)
