"""The lesser lists the page benchmark drives (bench/bench_pages.py `lesser_endpoints`) cost the same number of
queries with 2 rows as with 200: notifications, projects, enrolments, exchange requests, result complaints,
exports, the audit log, a school's notice, the teachers API (no query per row)."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hours.models import Notification
from points.models import ExchangeRequest
from security.models import AuditEvent
from training.models import Enrolment, ProjectQuota, TrainingProject
from verification.models import ExportJob, Notice, ResultComplaint, ResultStatus, VerificationResult

from .factories import TeacherFactory

YEAR = 2024

PAGES = [
    ("teacher_a1", "/hours/notifications/", "client"),
    ("teacher_a1", "/hours/projects/", "client"),
    ("teacher_a1", "/hours/enrolments/", "client"),
    ("teacher_a1", "/api/v1/projects/", "api"),
    ("teacher_a1", "/api/v1/notifications/", "api"),
    ("school_a1_admin", "/hours/enrolments/?show=all", "client"),
    ("school_a1_admin", "/points/requests/?show=all", "client"),
    ("school_a1_admin", "/verification/complaints/", "client"),
    ("school_a1_admin", f"/verification/notice/?year={YEAR}", "client"),
    ("school_a1_admin", "/verification/exports/", "client"),
    ("school_a1_admin", "/api/v1/exports/", "api"),
    ("district_a_admin", "/verification/complaints/?state=open", "client"),
    ("district_a_admin", "/api/v1/result-complaints/", "api"),
    ("district_a_admin", "/api/v1/enrolments/", "api"),
    ("city_admin", "/hours/projects/", "client"),
    ("city_admin", "/hours/enrolments/?show=all", "client"),
    ("city_admin", "/points/requests/?show=all", "client"),
    ("city_admin", "/account/audit/", "client"),
    ("city_admin", "/account/audit/?event=login", "client"),
    ("city_admin", "/api/v1/projects/", "api"),
    ("city_admin", "/api/v1/points/exchange-requests/", "api"),
    ("city_admin", "/api/v1/audit-events/", "api"),
    ("city_admin", "/api/v1/teachers/?status=active", "api"),
]


def _add(world, n):
    """n of everything those lists show, in school a1 (district a), for the personas that read them."""
    now = timezone.now()
    teachers = TeacherFactory.create_batch(n, school=world.school_a1)
    projects = TrainingProject.objects.bulk_create(
        TrainingProject(
            organiser=world.city if i % 2 else world.district_a,
            title=f"项目{i}",
            category="elective",
            hours=Decimal("6"),
            start_date=datetime.date(2026, 3, 1),
            end_date=datetime.date(2026, 3, 2),
            level="city" if i % 2 else "district",
            published_at=now,
        )
        for i in range(n)
    )
    ProjectQuota.objects.bulk_create(ProjectQuota(project=p, district=world.district_a, quota=50) for p in projects)
    me = world.teachers["teacher_a1"]
    Enrolment.objects.bulk_create(
        Enrolment(project=p, teacher=t, district=world.district_a, school=t.school)
        for p, t in zip(projects, [me, *teachers[1:]], strict=True)
    )
    ExchangeRequest.objects.bulk_create(
        ExchangeRequest(teacher=t, year=2026, category="elective", hours=1, points=10) for t in [me, *teachers[1:]]
    )
    results = VerificationResult.objects.bulk_create(
        VerificationResult(teacher=t, year=YEAR, school=world.school_a1, status=ResultStatus.PASSED) for t in teachers
    )
    notice, _ = Notice.objects.get_or_create(
        school=world.school_a1, year=YEAR, defaults={"ends_at": now + datetime.timedelta(days=7)}
    )
    ResultComplaint.objects.bulk_create(
        ResultComplaint(result=r, school=r.school, notice=notice, field="public", message="有误") for r in results
    )
    for persona in ("school_a1_admin", "city_admin"):
        role = world.roles[persona]
        ExportJob.objects.bulk_create(
            ExportJob(kind="results", organisation=role.organisation, params={"year": YEAR, "role_id": role.pk}, status="ready")
            for _ in range(n)
        )
    Notification.objects.bulk_create(Notification(user=world.users["teacher_a1"], message=f"通知{i}") for i in range(n))
    AuditEvent.objects.bulk_create(AuditEvent(event="login", actor_username=f"user{i}") for i in range(n))


def _count(world, persona, url, kind):
    client = world.client(persona) if kind == "client" else world.api(persona)
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("persona, url, kind", PAGES, ids=[f"{p}:{u}" for p, u, _k in PAGES])
def test_query_count_does_not_grow_from_2_to_200_rows(world, persona, url, kind):
    _add(world, 2)
    with_two, _ = _count(world, persona, url, kind)
    _add(world, 198)
    with_two_hundred, response = _count(world, persona, url, kind)
    assert with_two_hundred == with_two
    if kind == "api":
        assert len(response.json()["results"]) >= 20  # a full page was read, not an empty list
