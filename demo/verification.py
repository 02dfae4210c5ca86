"""Demo verification: the last three years verified; the oldest two finalised with their notices,
confirmations and carry-over; last year verified with 育才小学's notice open and a complaint (idempotent)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, OrgKind, Role, RoleKind
from demo.hours import DEMO_YEARS
from verification import services
from verification.models import Confirmation, Notice, VerificationRun


@transaction.atomic
def seed_verification_demo() -> None:
    year = timezone.localdate().year
    if VerificationRun.objects.exists():
        return
    city = Role.objects.select_related("user", "organisation").get(user__username="city", kind=RoleKind.CITY_ADMIN)
    oldest, older, last, _current = DEMO_YEARS(year)
    for y in (oldest, older):
        services.run_start(role=city, actor=city.user, year=y, inline=True)
        published = timezone.make_aware(datetime.datetime(y + 1, 3, 10, 9, 0))
        for school in Organisation.objects.filter(kind=OrgKind.SCHOOL):
            Notice.objects.get_or_create(
                school=school, year=y, defaults={"published_at": published, "ends_at": published + datetime.timedelta(days=7)}
            )
            Confirmation.objects.get_or_create(organisation=school, year=y)
        for district in Organisation.objects.filter(kind__in=[OrgKind.DISTRICT, OrgKind.CITY_DIRECT]):
            Confirmation.objects.get_or_create(organisation=district, year=y)
        services.year_finalise(role=city, actor=city.user, year=y)
    services.run_start(role=city, actor=city.user, year=last, inline=True)
    school_role = Role.objects.select_related("user", "organisation").get(user__username="school", kind=RoleKind.SCHOOL_ADMIN)
    services.notice_publish(role=school_role, actor=school_role.user, year=last)
    teacher = Role.objects.select_related("user", "organisation").get(user__username="teacher", kind=RoleKind.TEACHER)
    services.complaint_file(
        role=teacher, actor=teacher.user, year=last, field="professional", message="4月参加的区教研培训应为42学时，公示为36学时。"
    )
