"""Helpers for the verification tests: hours put straight into the ledger, runs started as the city."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

import pytest

from hours.models import Category, LedgerEntry, Source
from verification import services
from verification.models import VerificationResult

CST = datetime.timezone(datetime.timedelta(hours=8))
_titles = itertools.count(1)


def give(teacher, year: int, *, public=0, professional=0, elective=0) -> None:
    """One registered entry per category with hours; every entry gets its own title (so public topics differ)."""
    for category, hours in ((Category.PUBLIC, public), (Category.PROFESSIONAL, professional), (Category.ELECTIVE, elective)):
        if hours:
            entry(teacher, year, category, hours, title=f"{category}-{year}-{next(_titles)}")


def entry(teacher, year: int, category: str, hours, *, title: str, source: str = Source.REGISTRATION, revokes=None):
    return LedgerEntry.objects.create(
        teacher=teacher, year=year, category=category, hours=Decimal(str(hours)), source=source, title=title, revokes=revokes
    )


def verify(world, year: int, district=None):
    """A city run of `year` (or one district), executed in this process."""
    return services.run_start(
        role=world.roles["city_admin"], actor=world.users["city_admin"], year=year, district=district, inline=True
    )


def result(teacher, year: int) -> VerificationResult:
    return VerificationResult.objects.get(teacher=teacher, year=year)


@pytest.fixture
def private_media(settings, tmp_path):
    """Exports are written to a throw-away private media root."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    return tmp_path
