import datetime
import io

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
    with time_machine.travel(datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False) as t:
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
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}}}
    return tmp_path


_ = io
