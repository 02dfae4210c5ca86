"""Training projects, extra personas and Excel files for the project, registration and import tests.

Projects are made through the services, as an organiser would make them on the pages.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from accounts.models import Role, RoleKind
from training import projects
from training.models import TrainingProject

from ..factories import TeacherFactory, UserFactory

CST = datetime.timezone(datetime.timedelta(hours=8))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def at(y, m, d, hh=12, mm=0):
    """A moment in the platform's time zone (Asia/Shanghai)."""
    return datetime.datetime(y, m, d, hh, mm, tzinfo=CST)


def make_project(world, organiser="city_admin", *, quotas=None, publish=True, enrolment=False, **overrides) -> TrainingProject:
    """A 2026 project (12 hours, 2 March–3 March) of the organiser persona's organisation.

    `enrolment=True` opens enrolment from 1 to 20 February 2026. `quotas` maps district
    organisations to their number of places.
    """
    role = world.roles[organiser]
    data = {
        "title": "新课标专题培训",
        "category": "professional",
        "hours": Decimal("12"),
        "start_date": datetime.date(2026, 3, 2),
        "end_date": datetime.date(2026, 3, 3),
        "level": projects.LEVELS_FOR_ORG[role.organisation.kind][0],
        "kind": "training",
        "mode": "face_to_face",
        "enrolment_start": datetime.date(2026, 2, 1) if enrolment else None,
        "enrolment_end": datetime.date(2026, 2, 20) if enrolment else None,
        "description": "",
    }
    data.update(overrides)
    quota_map = {org.pk: n for org, n in quotas.items()} if quotas else None
    project = projects.project_save(role=role, actor=world.users[organiser], data=data, quotas=quota_map)
    if publish:
        project = projects.project_publish(role=role, project=project)
    return TrainingProject.objects.get(pk=project.pk)


def add_persona(world, persona: str, kind: str, org, *, teacher_name: str | None = None):
    """A new login with one role, added to `world` so `world.api(persona)` works; teachers get a record."""
    user = UserFactory(username=persona)
    world.users[persona] = user
    world.roles[persona] = Role.objects.create(user=user, kind=kind, organisation=org)
    if kind == RoleKind.TEACHER:
        world.teachers[persona] = TeacherFactory(user=user, school=org, name=teacher_name or f"{persona}老师")
        return world.teachers[persona]
    return world.roles[persona]


def xlsx_bytes(headers, rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xlsx_upload(headers, rows, name="登记.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, xlsx_bytes(headers, rows), content_type=XLSX)
