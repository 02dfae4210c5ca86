import datetime
import io
import itertools
import pathlib
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name="certificate.pdf", extra=b""):
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


def png(name="photo.png", extra=b""):
    return SimpleUploadedFile(name, PNG + extra, content_type="image/png")


@pytest.fixture
def in_year():
    """Freeze time at 2026-06-15 (inside the 2026 declaration window)."""
    with time_machine.travel(
        datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False
    ) as t:
        yield t


def declaration_payload(**overrides):
    data = {
        "year": 2026,
        "category": "professional",
        "activity_type": "authority_training",
        "title": "新课标专题培训",
        "organiser": "广州市教育研究院",
        "start_date": "2026-03-02",
        "end_date": "2026-03-03",
        "hours": "12",
        "certificate_number": "GZ-2026-0001",
        "certificate_in_chinese": True,
        "certificate_states_hours": True,
    }
    data.update(overrides)
    return data


@pytest.fixture
def private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path


_ = io


# --- declarations made through the services, as the teacher and the reviewers would ---

REVIEWERS = {
    "teacher_a1": ("school_a1_admin", "district_a_admin"),
    "teacher_a2": ("school_a2_admin", "district_a_admin"),
    "teacher_b1": ("school_b1_admin", "district_b_admin"),
    "teacher_c1": ("school_c1_admin", "city_direct_admin"),
}
_unique = itertools.count(1)


def declare(world, persona="teacher_a1", *, state="submitted", files=None, **overrides):
    """A declaration of `persona` brought to `state` through the services.

    Each call gets its own certificate number and evidence content, so declarations made
    here are not flagged as duplicates of each other unless a test asks for it.
    """
    from hours import services
    from hours.models import Declaration

    n = next(_unique)
    data = declaration_payload(certificate_number=f"UNIQ-{n:05d}", title=f"专题培训{n}")
    data.update(overrides)
    data["start_date"] = datetime.date.fromisoformat(str(data["start_date"]))
    data["end_date"] = datetime.date.fromisoformat(str(data["end_date"]))
    data["hours"] = Decimal(str(data["hours"]))
    if files is None:
        files = [("certificate", pdf(extra=f"unique {n}".encode()))]
    decl = services.declaration_save(
        role=world.roles[persona],
        actor=world.users[persona],
        data=data,
        files=files,
        submit=state != "draft",
    )
    school, district = REVIEWERS[persona]
    steps = {
        "draft": [],
        "submitted": [],
        "returned": [(school, "school_return", "证书不清晰")],
        "rejected": [(school, "reject", "与本人无关")],
        "school_approved": [(school, "school_approve", "")],
        "approved": [(school, "school_approve", ""), (district, "district_approve", "")],
    }[state]
    for reviewer, action, reason in steps:
        services.declaration_transition(
            declaration_id=decl.pk, action=action, role=world.roles[reviewer], actor=world.users[reviewer], reason=reason
        )
    return Declaration.objects.get(pk=decl.pk)


def stored_files(root) -> list:
    """Every file under the private media root (evidence is written there)."""
    return [p for p in pathlib.Path(root).rglob("*") if p.is_file()]
